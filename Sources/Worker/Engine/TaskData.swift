// Where an engine task's data comes from: the embedded synthetic corpus, or a MasakhaNER tree (`data.ner`)
// and a raw-text folder (`data.text`) named in the job.
import Experiment
import Foundation
import TextData

enum TaskData {
    /// The synthetic corpus is generated from this seed for every task, so all seeds of a job see the same data
    /// (the task's seed varies initialisation, data order, masking and dropout, not the corpus).
    static let syntheticCorpusSeed: UInt64 = 20_240_404

    /// The job's data section as a TextData source. Real data is read leniently: MasakhaNER's two malformed
    /// lines are skipped and logged as warnings.
    static func source(_ s: EngineSettings, needsText: Bool) throws -> DataSource {
        if s.source == "synthetic" {
            let n = s.syntheticSentences
            return .synthetic(seed: syntheticCorpusSeed,
                              sizes: SyntheticSizes(text: n, train: max(10, n / 2), dev: max(10, n / 10), test: max(10, n / 5)))
        }
        if needsText && s.textPath.isEmpty {
            throw ExecutionError("data.source is \(s.source) but data.text (a folder of <lang>.txt for pretraining) is not set")
        }
        if !needsText && s.nerPath.isEmpty {
            throw ExecutionError("data.source is \(s.source) but data.ner (a folder of <lang>/{train,dev,test}.txt) is not set")
        }
        return .folders(ner: URL(fileURLWithPath: s.nerPath), text: s.textPath.isEmpty ? nil : URL(fileURLWithPath: s.textPath),
                        lenient: true)
    }
}
