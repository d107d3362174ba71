// Where an engine task's data comes from: the embedded synthetic corpus, or a MasakhaNER tree (`data.ner`)
// and a raw-text folder (`data.text`) named in the job.
import Experiment
import Foundation
import TextData

enum TaskData {
    /// The synthetic corpus is generated from this seed for every task, so all seeds of a job see the same data
    /// (the task's seed varies initialisation, data order, masking and dropout, not the corpus).
    static let syntheticCorpusSeed: UInt64 = 20_240_404

    static func syntheticSizes(_ s: EngineSettings) -> SyntheticSizes {
        let n = s.syntheticSentences
        return SyntheticSizes(text: n, train: max(10, n / 2), dev: max(10, n / 10), test: max(10, n / 5))
    }

    /// Raw pretraining text of one language.
    static func text(_ s: EngineSettings, language: String) throws -> [String] {
        switch s.source {
        case "synthetic":
            return try Corpora.synthetic(language: language, seed: syntheticCorpusSeed, sizes: syntheticSizes(s)).text
        default:
            guard !s.textPath.isEmpty else {
                throw ExecutionError("data.source is \(s.source) but data.text (a folder of <lang>.txt) is not set")
            }
            return try Corpora.loadText(from: URL(fileURLWithPath: s.textPath), language: language)
        }
    }

    /// NER train/dev/test of one language (MasakhaNER is read leniently: its two malformed lines are skipped and logged).
    static func ner(_ s: EngineSettings, language: String) throws -> NERSplits {
        switch s.source {
        case "synthetic":
            return try Corpora.synthetic(language: language, seed: syntheticCorpusSeed, sizes: syntheticSizes(s)).0
        default:
            guard !s.nerPath.isEmpty else {
                throw ExecutionError("data.source is \(s.source) but data.ner (a folder of <lang>/{train,dev,test}.txt) is not set")
            }
            return try Corpora.loadNER(from: URL(fileURLWithPath: s.nerPath), language: language, lenient: true)
        }
    }
}
