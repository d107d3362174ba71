// CSentencePiece: a small C interface over libsentencepiece (C++), so Swift can load, encode, decode and
// train SentencePiece models. Every string or array it returns is malloc'd; free it with the matching
// spm_free_* function. Errors come back as a malloc'd message in *error (NULL on success).
#ifndef CSENTENCEPIECE_H
#define CSENTENCEPIECE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct spm_processor spm_processor;

/// Loads a serialized model (`.model` file). NULL on failure, with *error set.
spm_processor *spm_load_file(const char *path, char **error);
/// Loads a model from its serialized bytes. NULL on failure, with *error set.
spm_processor *spm_load_bytes(const void *bytes, size_t length, char **error);
void spm_free(spm_processor *processor);

/// Number of pieces in the model (including its own <unk>, <s>, </s>).
int spm_piece_size(const spm_processor *processor);
/// The id of a piece, or the model's unk id when absent.
int spm_piece_to_id(const spm_processor *processor, const char *piece, size_t length);
/// The piece for an id (malloc'd copy); NULL when the id is out of range.
char *spm_id_to_piece(const spm_processor *processor, int id);
int spm_unk_id(const spm_processor *processor);
int spm_bos_id(const spm_processor *processor);
int spm_eos_id(const spm_processor *processor);
int spm_pad_id(const spm_processor *processor);

/// Encodes UTF-8 text into piece ids (the model's own ids, without BOS/EOS).
/// Returns the count and sets *ids (malloc'd), or -1 with *error set.
long spm_encode(const spm_processor *processor, const char *text, size_t length, int **ids, char **error);
/// Encodes UTF-8 text into pieces: returns the count and sets *pieces to a malloc'd array of malloc'd
/// strings (free with spm_free_pieces), or -1 with *error set.
long spm_encode_pieces(const spm_processor *processor, const char *text, size_t length, char ***pieces, char **error);
/// Decodes ids back to UTF-8 text (malloc'd), or NULL with *error set.
char *spm_decode(const spm_processor *processor, const int *ids, size_t count, char **error);

/// Trains a model with SentencePieceTrainer's flag syntax ("--input=a.txt --model_prefix=m --vocab_size=800 ...").
/// Returns 0 on success, -1 with *error set.
int spm_train(const char *arguments, char **error);
/// Seeds SentencePiece's global random generator (used by training's sampling), for reproducible models.
void spm_set_random_seed(unsigned int seed);

void spm_free_ids(int *ids);
void spm_free_string(char *string);
void spm_free_pieces(char **pieces, long count);

#ifdef __cplusplus
}
#endif

#endif
