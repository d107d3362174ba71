// Compression-identified entities (after Hooker et al., "What do compressed deep neural networks forget?"): a gold
// test entity is one when its majority outcome (found / missed) over a compressed setting's seeds differs from that
// over the dense model's seeds. Per language × setting: their share, and recall on them versus the rest.
import Experiment
import Foundation

package struct IdentifiedEntities: Sendable, Equatable, Encodable {
    package var language: String
    package var setting: String
    /// Gold entities of the test set, and the seeds (records with outcomes) on each side.
    package var entities: Int
    package var denseSeeds: Int
    package var seeds: Int
    /// Entities left out because their majority is a tie on either side (an even number of seeds, split evenly).
    package var ties: Int
    /// Entities whose majority differs: `lost` (dense found, compressed missed) plus `gained` (the reverse).
    package var identified: Int
    package var lost: Int
    package var gained: Int
    /// Recall pooled over seeds (found outcomes / (entities × seeds)) of the compressed and the dense model, on the
    /// identified entities and on the rest of the decided ones; nil on an empty set.
    package var recallIdentified: Double?
    package var recallRest: Double?
    package var denseRecallIdentified: Double?
    package var denseRecallRest: Double?

    /// Identified entities among the decided ones (ties excluded); nil when every entity is a tie.
    package var share: Double? { entities - ties > 0 ? Double(identified) / Double(entities - ties) : nil }

    enum CodingKeys: String, CodingKey {
        case language, setting, entities, denseSeeds, seeds, ties, identified, share, lost, gained
        case recallIdentified, recallRest, denseRecallIdentified, denseRecallRest
    }

    /// Every field, and the share (report.json).
    package func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(language, forKey: .language); try c.encode(setting, forKey: .setting)
        try c.encode(entities, forKey: .entities); try c.encode(denseSeeds, forKey: .denseSeeds); try c.encode(seeds, forKey: .seeds)
        try c.encode(ties, forKey: .ties); try c.encode(identified, forKey: .identified); try c.encodeIfPresent(share, forKey: .share)
        try c.encode(lost, forKey: .lost); try c.encode(gained, forKey: .gained)
        try c.encodeIfPresent(recallIdentified, forKey: .recallIdentified); try c.encodeIfPresent(recallRest, forKey: .recallRest)
        try c.encodeIfPresent(denseRecallIdentified, forKey: .denseRecallIdentified); try c.encodeIfPresent(denseRecallRest, forKey: .denseRecallRest)
    }
}

package enum EntityMajority {
    /// The tie rule, stated in every output.
    package static let tieRule = "An entity's majority outcome over a setting's seeds is \"found\" when more than half of the seeds found it and \"missed\" when fewer than half did; with an even number of seeds an entity found by exactly half is a tie, and an entity tied on either side (dense or compressed) is left out of the share and of both recall columns (counted under ties)."
    /// Why recall and not F1.
    package static let recallNote = "Recall, not F1: records keep the outcome of each gold entity only, and a false positive belongs to no gold entity, so precision (and F1) on a subset of gold entities is undefined."

    /// Found by a majority of `seeds` outcomes (true), by a minority (false), or a tie (nil, also for no seeds).
    package static func majority(found: Int, of seeds: Int) -> Bool? {
        2 * found == seeds ? nil : 2 * found > seeds
    }

    /// Compares per-seed outcome lists (each in the same gold-entity order, all of `count` entities).
    package static func identify(language: String, setting: String, dense: [[Bool]], compressed: [[Bool]]) -> IdentifiedEntities {
        let count = dense.first?.count ?? 0
        precondition((dense + compressed).allSatisfy { $0.count == count }, "every outcome list indexes the same entities")
        var ties = 0, lost = 0, gained = 0
        var found = (identified: 0, rest: 0, denseIdentified: 0, denseRest: 0)
        for e in 0..<count {
            let d = dense.reduce(0) { $0 + ($1[e] ? 1 : 0) }, c = compressed.reduce(0) { $0 + ($1[e] ? 1 : 0) }
            guard let dm = majority(found: d, of: dense.count), let cm = majority(found: c, of: compressed.count) else { ties += 1; continue }
            if dm == cm {
                found.rest += c; found.denseRest += d
            } else {
                if dm { lost += 1 } else { gained += 1 }
                found.identified += c; found.denseIdentified += d
            }
        }
        let identified = lost + gained, rest = count - ties - identified
        func recall(_ hits: Int, _ entities: Int, _ seeds: Int) -> Double? {
            entities * seeds > 0 ? Double(hits) / Double(entities * seeds) : nil
        }
        return IdentifiedEntities(language: language, setting: setting, entities: count, denseSeeds: dense.count,
                                  seeds: compressed.count, ties: ties, identified: identified, lost: lost, gained: gained,
                                  recallIdentified: recall(found.identified, identified, compressed.count),
                                  recallRest: recall(found.rest, rest, compressed.count),
                                  denseRecallIdentified: recall(found.denseIdentified, identified, dense.count),
                                  denseRecallRest: recall(found.denseRest, rest, dense.count))
    }
}

extension Study {
    /// Per language × compression setting with outcomes on both sides, and notes on what could not be compared.
    package var identifiedEntities: (rows: [IdentifiedEntities], notes: [String]) {
        var rows: [IdentifiedEntities] = [], notes: [String] = []
        let evaluated = records.filter { $0.spec.kind == .finetune || $0.spec.kind == .compress }
        guard evaluated.contains(where: { $0.metrics[EntityOutcomes.metric] != nil }) else {
            return ([], evaluated.isEmpty ? [] : ["Not in these records: they predate per-entity outcomes (`\(EntityOutcomes.metric)`)."])
        }
        func outcomes(_ language: String, _ label: String) -> [EntityOutcomes] {
            evaluated.filter { $0.spec.language == language && self.label(of: $0) == label }
                .compactMap { $0.metrics[EntityOutcomes.metric].flatMap(EntityOutcomes.init) }
        }
        for l in languages {
            let dense = outcomes(l, "dense")
            guard let reference = dense.first else {
                if settings.contains(where: { row(l, $0) != nil }) { notes.append("\(l): no dense record with per-entity outcomes.") }
                continue
            }
            let same = { (o: EntityOutcomes) in o.digest == reference.digest && o.count == reference.count }
            for s in settings where row(l, s) != nil {
                let compressed = outcomes(l, s)
                guard !compressed.isEmpty else { notes.append("\(l) × \(s): no record with per-entity outcomes."); continue }
                let mismatched = (dense + compressed).filter { !same($0) }.count
                if mismatched > 0 { notes.append("\(l) × \(s): \(mismatched) record(s) index other gold entities (another test set) and are left out.") }
                let d = dense.filter(same), c = compressed.filter(same)
                guard !c.isEmpty else { continue }
                rows.append(EntityMajority.identify(language: l, setting: s, dense: d.map(\.found), compressed: c.map(\.found)))
            }
        }
        return (rows, notes)
    }

    /// The CSV of `identifiedEntities` (report-entities.csv), one row per language × setting.
    package var identifiedEntitiesCSV: String {
        var lines = ["language,setting,entities,dense_seeds,seeds,ties,identified,share,lost,gained,recall_identified,recall_rest,dense_recall_identified,dense_recall_rest"]
        for r in identifiedEntities.rows {
            let fields: [String] = [Report.csvField(r.language), Report.csvField(r.setting), String(r.entities), String(r.denseSeeds),
                                    String(r.seeds), String(r.ties), String(r.identified), r.share.map { "\($0)" } ?? "",
                                    String(r.lost), String(r.gained)]
                + [r.recallIdentified, r.recallRest, r.denseRecallIdentified, r.denseRecallRest].map { $0.map { "\($0)" } ?? "" }
            lines.append(fields.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The table's cells, shared by the Markdown and HTML renderings.
    func identifiedEntitiesCells(_ r: IdentifiedEntities) -> [String] {
        func pts(_ x: Double?) -> String { x.map { NumberFormat.fixed(100 * $0, 1) } ?? "–" }
        return [r.language, r.setting, "\(r.denseSeeds) / \(r.seeds)", String(r.entities), String(r.ties),
                "\(r.identified) (\(r.share.map { NumberFormat.fixed(100 * $0, 1) + " %" } ?? "–"))", "\(r.lost) / \(r.gained)",
                "\(pts(r.recallIdentified)) / \(pts(r.denseRecallIdentified))", "\(pts(r.recallRest)) / \(pts(r.denseRecallRest))"]
    }

    static let identifiedEntitiesHeader = ["language", "setting", "seeds (dense / compressed)", "gold entities", "ties (left out)",
                                           "identified (share of decided)", "lost / gained", "recall on identified (compressed / dense, pts)",
                                           "recall on the rest (compressed / dense, pts)"]
}
