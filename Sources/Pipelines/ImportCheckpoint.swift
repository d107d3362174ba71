// The task that stands in for pretraining when a job names a `pretrained` checkpoint: the Hugging Face folder
// (safetensors or pytorch_model.bin weights) is checked against the hash the plan recorded, loaded, and written
// out as this engine's checkpoint (config, model.safetensors, the folder's own tokenizer), so every fine-tune
// and compress task downstream reads it as it reads a checkpoint it pretrained itself.
import Evaluation
import Experiment
import Foundation
import TextData
import Transformer

extension Pipelines {
    package static func importCheckpoint(_ folder: URL, sha256: String, out: URL, run: PipelineRun) throws -> PipelineOutcome {
        let started = Date()
        let found = try PretrainedCheckpoint.contentHash(of: folder)
        guard found == sha256 else {
            throw PermanentTaskError("the checkpoint \(folder.path) changed since the job was planned (content hash \(found.prefix(12)), "
                + "planned \(sha256.prefix(12))): plan the job again")
        }
        let model = try permanent("loading the pretrained checkpoint \(folder.path)") { try XLMRModel.load(folder) }
        let (tokenizer, tokenizerURL) = try CheckpointFiles.tokenizer(of: folder)
        // Ids at or past the embedding table's size would index outside it.
        guard tokenizer.vocabularySize <= model.config.vocabSize else {
            throw PermanentTaskError("the tokenizer of \(folder.path) has \(tokenizer.vocabularySize) ids but the model's vocabulary "
                + "is \(model.config.vocabSize): they do not belong together")
        }
        run.log.write("pretrained checkpoint \(folder.path): \(model.config.numHiddenLayers) layers × \(model.config.hiddenSize), "
            + "\(model.layout.totalCount) parameters, tokenizer \(tokenizer.vocabularySize) ids, content \(sha256.prefix(12))")
        try model.save(out)
        try CheckpointFiles.copyTokenizer(tokenizerURL, into: out)
        run.progress(1.0, "imported")
        return try outcome(out, metrics: [
            "params": .int(model.layout.totalCount),
            "tokenizer.vocab": .int(tokenizer.vocabularySize),
            "pretrained.sha256": .string(sha256),
            "pretrain.seconds": .double(Date().timeIntervalSince(started)),
        ], run: run)
    }
}
