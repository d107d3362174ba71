// compress(lang, seed, setting): a compression setting applied to its parent checkpoint, then the same
// evaluation as the dense model. A small dispatcher by family; each family lives in its own file
// (CompressPrune.swift for pruning) and returns the task's output.
import Experiment
import Foundation

struct CompressTask {
    let request: ExecutionRequest
    let settings: EngineSettings
    let progress: @Sendable (Double, String) -> Void

    func run() throws -> ExecutionOutput {
        let spec = request.spec
        guard let setting = spec.setting, spec.language != nil, spec.inputs.first != nil else {
            throw ExecutionError("\(spec.title): a compress task needs a setting, a language and a parent checkpoint")
        }
        if setting.family == "prune" { return try PruneTask(request: request, settings: settings, setting: setting, progress: progress).run() }
        if setting.family == "quantize" { return try CompressQuantize(request: request, settings: settings, progress: progress).run() }
        if setting.family == "distill" { return try CompressDistill(request: request, settings: settings, progress: progress).run() }
        throw ExecutionError("\(spec.title): compression family '\(setting.family)' is not built yet in this engine (compression issue)")
    }
}
