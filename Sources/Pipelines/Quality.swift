// What the evaluate-and-package step measures beyond F1 from the test predictions: calibration (token and entity
// level) and, for a compressed model, loyalty to its dense model; and where the dense predictions come from.
// Also the record's compute provenance (ISA, GEMM kernel, peak memory). Names in docs/results.md.
import Evaluation
import Experiment
import Foundation
import TensorCore
import TextData

/// The dense model a finished model is compared with.
enum DenseReference {
    /// None: the model was not derived from a fine-tuned model (prune `when: before` starts from the pretrained one).
    case none
    /// This is the dense model: its test predictions are written beside its checkpoint for its compressed variants.
    case write
    /// A compressed variant of the fine-tuned checkpoint in this folder: its `predictions.safetensors` is the reference;
    /// a CLI checkpoint from before the file existed has none (logged, no loyalty), a corrupt one is an error.
    case compare(URL)
}

enum Quality {
    /// Calibration and loyalty metrics of `test` (the test predictions with probabilities); `.write` saves them
    /// into `out` (which must exist). Each part is timed (`calibration.seconds`, `loyalty.seconds`,
    /// `predictions.seconds`), so a record shows what the added evaluation costs apart from the F1 it always had.
    static func metrics(_ test: NERPredictions, data: NERData, reference: DenseReference, out: URL,
                        log: PipelineLog) throws -> [String: Value] {
        let gold = data.splits.test, labels = data.evaluator.labels
        var mark = DispatchTime.now().uptimeNanoseconds
        func lap() -> Double {
            let now = DispatchTime.now().uptimeNanoseconds
            defer { mark = now }
            return Double(now - mark) / 1e9
        }
        var m = try Metrics.calibration(Calibration.tokens(test, gold: gold, labels: labels), prefix: "calibration.token")
        m.merge(try Metrics.calibration(Calibration.entities(test, gold: gold, labels: labels), prefix: "calibration.entity")) { $1 }
        m["calibration.seconds"] = .double(lap())
        switch reference {
        case .none: break
        case .write:
            try DensePredictions.write(test, labels: labels, into: out)
            m["predictions.seconds"] = .double(lap())
        case .compare(let folder):
            guard FileManager.default.fileExists(atPath: folder.appendingPathComponent(DensePredictions.file).path) else {
                log.write("no \(DensePredictions.file) in \(folder.path): no loyalty metrics")
                break
            }
            let dense = try DensePredictions.read(from: folder, gold: gold, labels: labels)
            m.merge(Metrics.loyalty(try Loyalty.compare(dense: dense, variant: test, gold: gold, labels: labels))) { $1 }
            m["loyalty.seconds"] = .double(lap())
        }
        return m
    }

    /// In a grid, a compress task started from a fine-tuned checkpoint must have its dense predictions: checked
    /// before any work, so a missing artifact fails the task at once with a message naming it.
    static func requireDensePredictions(in folder: URL) throws {
        let url = folder.appendingPathComponent(DensePredictions.file)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw PermanentTaskError("the dense predictions artifact \(DensePredictions.file) of the fine-tuned parent is "
                                     + "missing from \(folder.path) (its fine-tune task ran a version that did not write it)")
        }
    }
}

extension Metrics {
    /// `PREFIX.ece`, `PREFIX.mce`, `PREFIX.count`, `PREFIX.bins` (15 objects: count, confidence, accuracy) and
    /// `PREFIX.certain` (the confidence-1 bin, kept apart as torchmetrics keeps it).
    static func calibration(_ r: CalibrationReport, prefix: String) -> [String: Value] {
        func bin(_ b: ReliabilityBin) -> Value {
            .object(["count": .int(b.count), "confidence": .double(b.confidence), "accuracy": .double(b.accuracy)])
        }
        return ["\(prefix).ece": .double(r.ece), "\(prefix).mce": .double(r.mce), "\(prefix).count": .int(r.count),
                "\(prefix).bins": .array(r.bins.map(bin)), "\(prefix).certain": bin(r.certain)]
    }

    /// `loyalty.label`, `loyalty.probability`, `loyalty.flips.correct_to_wrong`, `loyalty.flips.wrong_to_correct`.
    static func loyalty(_ r: LoyaltyReport) -> [String: Value] {
        ["loyalty.label": .double(r.label), "loyalty.probability": .double(r.probability),
         "loyalty.flips.correct_to_wrong": .double(r.correctToWrong), "loyalty.flips.wrong_to_correct": .double(r.wrongToCorrect)]
    }

    /// What the engine computed on: `isa` (oneDNN's instruction set here), `compute.gemm` (the fp32 GEMM policy:
    /// own, oneDNN or auto) with `compute.gemm.choice` under auto (each shape class's kernel and both GFLOP/s),
    /// and the peak resident memory of the run (`memory.peak_bytes`, with `memory.scope` saying over what).
    static func compute(_ run: PipelineRun) -> [String: Value] {
        var m: [String: Value] = ["isa": .string(ComputeInfo.isa), "compute.gemm": .string(GemmChoice.policy.rawValue),
                                  "memory.scope": .string(run.memoryScope.rawValue)]
        if GemmChoice.policy == .auto { m["compute.gemm.choice"] = .string(GemmChoice.summary) }
        if let peak = ResidentMemory.peakBytes() { m["memory.peak_bytes"] = .int(peak) }
        return m
    }
}
