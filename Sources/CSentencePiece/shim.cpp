// CSentencePiece: the C++ side of the C interface in include/CSentencePiece.h.
#include "CSentencePiece.h"

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

struct spm_processor {
    sentencepiece::SentencePieceProcessor processor;
};

static char *copy_string(const std::string &text) {
    char *out = static_cast<char *>(std::malloc(text.size() + 1));
    if (out == nullptr) return nullptr;
    std::memcpy(out, text.data(), text.size());
    out[text.size()] = '\0';
    return out;
}

static void set_error(char **error, const std::string &message) {
    if (error != nullptr) *error = copy_string(message);
}

static void clear_error(char **error) {
    if (error != nullptr) *error = nullptr;
}

extern "C" {

spm_processor *spm_load_file(const char *path, char **error) {
    clear_error(error);
    auto *handle = new spm_processor();
    const auto status = handle->processor.Load(path);
    if (!status.ok()) {
        set_error(error, status.ToString());
        delete handle;
        return nullptr;
    }
    return handle;
}

spm_processor *spm_load_bytes(const void *bytes, size_t length, char **error) {
    clear_error(error);
    auto *handle = new spm_processor();
    const auto status = handle->processor.LoadFromSerializedProto(
        std::string(static_cast<const char *>(bytes), length));
    if (!status.ok()) {
        set_error(error, status.ToString());
        delete handle;
        return nullptr;
    }
    return handle;
}

void spm_free(spm_processor *processor) { delete processor; }

int spm_piece_size(const spm_processor *processor) { return processor->processor.GetPieceSize(); }

int spm_piece_to_id(const spm_processor *processor, const char *piece, size_t length) {
    return processor->processor.PieceToId(std::string(piece, length));
}

char *spm_id_to_piece(const spm_processor *processor, int id) {
    if (id < 0 || id >= processor->processor.GetPieceSize()) return nullptr;
    return copy_string(processor->processor.IdToPiece(id));
}

int spm_unk_id(const spm_processor *processor) { return processor->processor.unk_id(); }
int spm_bos_id(const spm_processor *processor) { return processor->processor.bos_id(); }
int spm_eos_id(const spm_processor *processor) { return processor->processor.eos_id(); }
int spm_pad_id(const spm_processor *processor) { return processor->processor.pad_id(); }

long spm_encode(const spm_processor *processor, const char *text, size_t length, int **ids, char **error) {
    clear_error(error);
    *ids = nullptr;
    std::vector<int> out;
    const auto status = processor->processor.Encode(std::string(text, length), &out);
    if (!status.ok()) {
        set_error(error, status.ToString());
        return -1;
    }
    *ids = static_cast<int *>(std::malloc(sizeof(int) * (out.empty() ? 1 : out.size())));
    if (*ids == nullptr) {
        set_error(error, "out of memory");
        return -1;
    }
    if (!out.empty()) std::memcpy(*ids, out.data(), sizeof(int) * out.size());
    return static_cast<long>(out.size());
}

long spm_encode_pieces(const spm_processor *processor, const char *text, size_t length, char ***pieces, char **error) {
    clear_error(error);
    *pieces = nullptr;
    std::vector<std::string> out;
    const auto status = processor->processor.Encode(std::string(text, length), &out);
    if (!status.ok()) {
        set_error(error, status.ToString());
        return -1;
    }
    *pieces = static_cast<char **>(std::malloc(sizeof(char *) * (out.empty() ? 1 : out.size())));
    if (*pieces == nullptr) {
        set_error(error, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < out.size(); ++i) (*pieces)[i] = copy_string(out[i]);
    return static_cast<long>(out.size());
}

char *spm_decode(const spm_processor *processor, const int *ids, size_t count, char **error) {
    clear_error(error);
    std::vector<int> input(ids, ids + count);
    std::string text;
    const auto status = processor->processor.Decode(input, &text);
    if (!status.ok()) {
        set_error(error, status.ToString());
        return nullptr;
    }
    return copy_string(text);
}

int spm_train(const char *arguments, char **error) {
    clear_error(error);
    const auto status = sentencepiece::SentencePieceTrainer::Train(arguments);
    if (!status.ok()) {
        set_error(error, status.ToString());
        return -1;
    }
    return 0;
}

void spm_set_random_seed(unsigned int seed) { sentencepiece::SetRandomGeneratorSeed(seed); }

void spm_free_ids(int *ids) { std::free(ids); }
void spm_free_string(char *string) { std::free(string); }
void spm_free_pieces(char **pieces, long count) {
    if (pieces == nullptr) return;
    for (long i = 0; i < count; ++i) std::free(pieces[i]);
    std::free(pieces);
}

}  // extern "C"
