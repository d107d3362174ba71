// compress(lang, seed, setting): a compression setting applied to its parent checkpoint, then the same
// evaluation as the dense model. Built so far: one-shot unstructured magnitude pruning after fine-tuning
// (global or per layer, no further fine-tuning); every other setting fails with a clear message.
import Compression
import Evaluation
import Experiment
import Foundation
import TextData
import Transformer

struct CompressTask {
    let request: ExecutionRequest
    let settings: EngineSettings
    let progress: @Sendable (Double, String) -> Void

    func run() throws -> ExecutionOutput {
        let spec = request.spec
        guard let setting = spec.setting, let language = spec.language, let parent = spec.inputs.first else {
            throw ExecutionError("\(spec.title): a compress task needs a setting, a language and a parent checkpoint")
        }
        if setting.family == "quantize" { return try CompressQuantize(request: request, settings: settings, progress: progress).run() }
        let fields = setting.fields
        let supported = setting.family == "prune" && fields["when"] == .string("after")
            && fields["structure"] == .string("unstructured") && fields["schedule"] == .string("oneshot")
            && (fields["finetune_epochs"]?.intValue ?? 0) == 0
        guard supported, let sparsity = fields["sparsity"]?.doubleValue,
              let scope = PruningScope(rawValue: fields["scope"]?.stringValue ?? "global") else {
            throw ExecutionError("\(spec.title): not built yet: only one-shot unstructured pruning after fine-tuning without further fine-tuning runs so far (compression issue)")
        }
        let log = request.log
        let started = Date()
        let folder = try Checkpoint.folder(from: request, parent: parent)
        let model = try XLMRModel.load(folder)
        let labels = LabelSet.masakhaNER
        guard model.outputCount == labels.count else {
            throw ExecutionError("\(spec.title): the parent has \(model.outputCount) labels, expected \(labels.count) (a fine-tuned NER checkpoint)")
        }
        let tensors = MagnitudePruning.prunableTensors(of: model)
        let summary = try MagnitudePruning.prune(model, sparsity: sparsity, scope: scope, tensors: tensors)
        log.write(String(format: "pruned %@ to %.4f of %d prunable weights (%d zeros); %d of %d parameters non-zero",
                         scope.rawValue, summary.sparsity, summary.prunable, summary.prunedZeros, summary.nonZeros, summary.parameters))
        progress(0.3, "evaluating \(language)")

        let tokenizerURL = folder.appendingPathComponent(Checkpoint.tokenizerFile)
        let tokenizer = try XLMRTokenizer(contentsOf: tokenizerURL.path)
        let data = try Corpora.ner(try TaskData.source(settings, needsText: false), language: language)
        let evaluator = NEREvaluator(tokenizer: tokenizer, labels: labels, maxLength: settings.maxLength, batchSize: 32)
        let dev = try evaluator.score(model, data.dev)
        let test = try evaluator.score(model, data.test)
        log.write(String(format: "after pruning: dev F1 %.4f, test F1 %.4f", dev.f1, test.f1))

        let out = request.workDirectory.appendingPathComponent("checkpoint")
        try model.save(out)  // the parent's label names come along in its config (id2label)
        try FileManager.default.copyItem(at: tokenizerURL.resolvingSymlinksInPath(), to: out.appendingPathComponent(Checkpoint.tokenizerFile))

        var metrics = NEREvaluator.metrics(dev, prefix: "dev").merging(NEREvaluator.metrics(test, prefix: "test")) { $1 }
        metrics["params"] = .int(summary.parameters)
        metrics["nonzeros"] = .int(summary.nonZeros)
        metrics["prunable"] = .int(summary.prunable)
        metrics["sparsity"] = .double(summary.sparsity)
        metrics["compress.seconds"] = .double(Date().timeIntervalSince(started))
        metrics["data.synthetic"] = .bool(data.synthetic)
        return ExecutionOutput(metrics: metrics, artifacts: try Checkpoint.artifacts(in: out))
    }
}
