// What the evaluation issue #13 added costs in a run (`smaller results DIR --cost`): per record, its
// `eval.added_seconds` against its own task time and against the fine-tuning time of its model; per run, the
// added seconds against all task time. The issue's budgets: ≤ 30 % of the model's fine-tuning time (quickstart),
// ≤ 20 % of a grid's wall time (compression-curve).
import Experiment
import Foundation

package struct EvaluationCost: Sendable {
    package struct Row: Sendable {
        package var title: String
        /// endedAt − startedAt.
        package var taskSeconds: Double
        /// `eval.added_seconds`, or the sum of the timers a record of an older version has (see `complete`).
        package var added: Double
        /// `finetune.seconds` of the fine-tune task the model comes from (its own for a fine-tune record), or nil
        /// when the run has no such record.
        package var fineTuneSeconds: Double?
        /// False for a record written before `eval.added_seconds` existed: only its robustness timers are counted.
        package var complete: Bool
    }

    package var rows: [Row]
    /// Last end − first start over the records.
    package var wallSeconds: Double
    package var taskSeconds: Double
    package var addedSeconds: Double
    /// Distinct workers that finished a record.
    package var workers: Int

    /// The cost over the finished (`done`) engine records that evaluated a model (those with `robust.seconds`).
    package init(records: [ResultRecord]) {
        let done = records.filter { $0.status == "done" }
        let fineTunes = done.filter { $0.spec.kind == .finetune }
        let byID = Dictionary(fineTunes.map { ($0.taskID, $0) }) { a, _ in a }
        func fineTune(of r: ResultRecord) -> ResultRecord? {
            if r.spec.kind == .finetune { return r }
            // The parent checkpoint's fine-tune (prune after, quantize, the distillation teacher); else, for a model
            // fine-tuned inside its own task (prune before), the dense fine-tune of its language and seed.
            return r.spec.inputs.lazy.compactMap { byID[$0] }.first
                ?? fineTunes.first { $0.spec.language == r.spec.language && $0.spec.seed == r.spec.seed }
        }
        rows = done.filter { $0.metrics["robust.seconds"] != nil }.map { r in
            let m = r.metrics, exact = m["eval.added_seconds"]?.doubleValue
            return Row(title: r.spec.title, taskSeconds: r.endedAt - r.startedAt,
                       added: exact ?? ResultRecord.addedEvaluationSeconds(m),
                       fineTuneSeconds: fineTune(of: r)?.metrics["finetune.seconds"]?.doubleValue, complete: exact != nil)
        }
        wallSeconds = (done.map(\.endedAt).max() ?? 0) - (done.map(\.startedAt).min() ?? 0)
        taskSeconds = done.reduce(0) { $0 + ($1.endedAt - $1.startedAt) }
        addedSeconds = rows.reduce(0) { $0 + $1.added }
        workers = Set(done.map(\.worker)).count
    }

    /// Added seconds over all task seconds: the share of the grid's wall time while every worker is busy (an upper
    /// bound when workers sit idle, e.g. waiting on the pretrain → fine-tune chain).
    package var taskShare: Double { taskSeconds > 0 ? addedSeconds / taskSeconds : 0 }

    /// Added seconds spread over the workers, over the wall time: the wall time the added evaluation takes when it
    /// parallelises as the grid does.
    package var wallShare: Double { wallSeconds > 0 && workers > 0 ? addedSeconds / Double(workers) / wallSeconds : 0 }

    package var markdown: String {
        func percent(_ x: Double) -> String { NumberFormat.fixed(100 * x, 1) + " %" }
        func seconds(_ x: Double) -> String { NumberFormat.fixed(x, 2) }
        var lines = ["| record | task s | added evaluation s | / own task | / its fine-tuning (`finetune.seconds`) |",
                     "|---|---|---|---|---|"]
        for r in rows {
            let own = r.taskSeconds > 0 ? percent(r.added / r.taskSeconds) : "–"
            let ft = r.fineTuneSeconds.map { $0 > 0 ? percent(r.added / $0) + " of " + seconds($0) + " s" : "–" } ?? "–"
            lines.append("| \(r.title)\(r.complete ? "" : " *") | \(seconds(r.taskSeconds)) | \(seconds(r.added)) | \(own) | \(ft) |")
        }
        let worst = rows.compactMap { r in r.fineTuneSeconds.flatMap { $0 > 0 ? r.added / $0 : nil } }.max()
        lines.append("")
        lines.append("Run: wall \(seconds(wallSeconds)) s, task time \(seconds(taskSeconds)) s, added evaluation "
                     + "\(seconds(addedSeconds)) s = \(percent(taskShare)) of task time, \(percent(wallShare)) of \(workers) "
                     + "worker(s) × wall (budget ≤ 20 % of the grid's wall time); "
                     + "largest share of a model's fine-tuning time \(worst.map(percent) ?? "–") (budget ≤ 30 %).")
        if rows.contains(where: { !$0.complete }) {
            lines.append("* a record without `eval.added_seconds` (an older version): only its robustness timers are counted.")
        }
        return lines.joined(separator: "\n")
    }
}
