// Compression-identified entities on hand-computed outcomes (majorities with ties on both sides, recall on the
// identified entities and the rest), records that index other entities, old records without outcomes, the outputs.
import Experiment
import Foundation
import FoundationXML
import Testing
@testable import Report

@Suite struct EntitiesTests {
    @Test func majorityOverSeedsWithTies() {
        #expect(EntityMajority.majority(found: 2, of: 3) == true && EntityMajority.majority(found: 1, of: 3) == false)
        #expect(EntityMajority.majority(found: 3, of: 4) == true && EntityMajority.majority(found: 1, of: 4) == false)
        #expect(EntityMajority.majority(found: 1, of: 2) == nil && EntityMajority.majority(found: 2, of: 4) == nil)
        #expect(EntityMajority.majority(found: 0, of: 0) == nil)
        #expect(EntityMajority.majority(found: 1, of: 1) == true && EntityMajority.majority(found: 0, of: 1) == false)
    }

    /// Dense 3 seeds, compressed 2 seeds, six entities (T = found):
    ///   e0 dense TTT (found)  compressed FF (missed) → identified, lost
    ///   e1 dense TTF (found)  compressed TF (tie)    → left out
    ///   e2 dense FFT (missed) compressed TT (found)  → identified, gained
    ///   e3 dense FFF (missed) compressed FF (missed) → rest
    ///   e4 dense TFF (missed) compressed TF (tie)    → left out
    ///   e5 dense TTT (found)  compressed TT (found)  → rest
    static let dense = [[true, true, false, false, true, true], [true, true, false, false, false, true], [true, false, true, false, false, true]]
    static let compressed = [[false, true, true, false, true, true], [false, false, true, false, false, true]]

    @Test func handComputedIdentification() {
        let r = EntityMajority.identify(language: "hau", setting: "s", dense: Self.dense, compressed: Self.compressed)
        #expect(r.entities == 6 && r.denseSeeds == 3 && r.seeds == 2 && r.ties == 2)
        #expect(r.identified == 2 && r.lost == 1 && r.gained == 1 && r.share == 0.5)  // 2 of the 4 decided
        // Compressed: e0 found 0 times, e2 twice, over 2 seeds: 2 / 4; the rest e3 0, e5 2: 2 / 4.
        #expect(r.recallIdentified == 0.5 && r.recallRest == 0.5)
        // Dense: e0 3, e2 1 over 3 seeds: 4 / 6; the rest e3 0, e5 3: 3 / 6.
        #expect(r.denseRecallIdentified == 4.0 / 6.0 && r.denseRecallRest == 0.5)
        // Every entity tied on one side: no share, no recall.
        let allTied = EntityMajority.identify(language: "x", setting: "s", dense: [[true], [false]], compressed: [[true]])
        #expect(allTied.ties == 1 && allTied.share == nil && allTied.recallIdentified == nil && allTied.recallRest == nil)
    }

    static func outcomes(_ found: [Bool], entities: String = "PER") -> [String: Value] {
        var m = StudyTests.f1(0.8)
        m[EntityOutcomes.metric] = EntityOutcomes(found: found, entities: found.indices.map { "0 \($0) \($0 + 1) \(entities)" }).value
        return m
    }

    static var records: [ResultRecord] {
        var out: [ResultRecord] = []
        for (seed, found) in dense.enumerated() { out.append(StudyTests.record(.finetune, "hau", seed + 1, outcomes(found))) }
        for (seed, found) in compressed.enumerated() {
            out.append(StudyTests.record(.compress, "hau", seed + 1, outcomes(found), setting: StudyTests.dynamic))
        }
        return out
    }

    @Test func studyFormsTheMajoritiesPerLanguageAndSetting() throws {
        var records = Self.records
        // A third compressed seed over another test set (another digest) is left out, with a note.
        records.append(StudyTests.record(.compress, "hau", 3, Self.outcomes(Array(repeating: true, count: 6), entities: "LOC"), setting: StudyTests.dynamic))
        let (rows, notes) = Study(job: "j", records: records).identifiedEntities
        #expect(rows == [EntityMajority.identify(language: "hau", setting: StudyTests.dynamic.label, dense: Self.dense, compressed: Self.compressed)])
        #expect(notes == ["hau × \(StudyTests.dynamic.label): 1 record(s) index other gold entities (another test set) and are left out."])
    }

    @Test func outputsShowTheTableAndTheTieRule() throws {
        let study = Study(job: "j", records: Self.records)
        #expect(study.markdown.contains("| hau | \(StudyTests.dynamic.label) | 3 / 2 | 6 | 2 | 2 (50.0 %) | 1 / 1 | 50.0 / 66.7 | 50.0 / 50.0 |"))
        #expect(study.markdown.contains(EntityMajority.tieRule))
        let csv = study.identifiedEntitiesCSV.split(separator: "\n")
        #expect(csv.count == 2 && csv[1].hasPrefix("hau,\(StudyTests.dynamic.label),6,3,2,2,2,0.5,1,1,0.5,0.5,"))
        let doc = try XMLDocument(xmlString: study.html(), options: [])
        #expect(try doc.nodes(forXPath: "//*[@id='table-entities']//*[local-name()='tbody']/*[local-name()='tr']").count == 1)
        let json = try JSONSerialization.jsonObject(with: try study.json()) as? [String: Any]
        let identified = json?["compressionIdentifiedEntities"] as? [String: Any]
        #expect((identified?["rows"] as? [[String: Any]])?.first?["identified"] as? Int == 2)
        #expect((identified?["rows"] as? [[String: Any]])?.first?["share"] as? Double == 0.5)
        #expect(identified?["tieRule"] as? String == EntityMajority.tieRule)
    }

    @Test func oldRecordsSayTheOutcomesAreNotInThem() {
        let study = Study(job: "j", records: StudyTests.records)
        #expect(study.identifiedEntities.rows.isEmpty)
        #expect(study.identifiedEntities.notes.first?.hasPrefix("Not in these records") == true)
        #expect(study.markdown.contains("Not in these records") && study.html().contains("Not in these records"))
        #expect(study.identifiedEntitiesCSV.split(separator: "\n").count == 1)
    }
}
