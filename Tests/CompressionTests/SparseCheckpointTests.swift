// Compact sparse checkpoints: bit-for-bit round trip, the size of a 90%-sparse encoder computed from the file,
// and clear errors for a corrupted mask.
import Foundation
import Testing
import TestSupport
import TensorCore
import Transformer
@testable import Compression

@Suite struct SparseCheckpointTests {
    static func pruned(_ sparsity: Double) throws -> XLMRModel {
        let config = XLMRConfig(vocabSize: 40, hiddenSize: 32, numHiddenLayers: 2, numAttentionHeads: 4, intermediateSize: 64,
                                maxPositionEmbeddings: 20)
        let m = try XLMRModel(config: config, head: .tokenClassification(labels: 5))
        m.initializeWeights(seed: 9)
        try MagnitudePruning.prune(m, sparsity: sparsity, scope: .global, tensors: MagnitudePruning.prunableTensors(of: m))
        return m
    }

    static func temp() -> URL { FileManager.default.temporaryDirectory.appendingPathComponent("sparse-\(UUID().uuidString)") }

    @Test(arguments: [0.0, 0.5, 0.9])
    func roundTripIsExact(sparsity: Double) throws {
        let model = try Self.pruned(sparsity)
        let dir = Self.temp()
        defer { try? FileManager.default.removeItem(at: dir) }
        try SparseCheckpoint.save(model, to: dir)
        let back = try SparseCheckpoint.loadAny(dir)
        try model.save(dir.appendingPathComponent("dense"))
        let dense = try XLMRModel.load(dir.appendingPathComponent("dense"))
        #expect(back.head == model.head && back.config == dense.config, "the same config as a dense save gives")
        #expect(back.parameters.array == model.parameters.array)
    }

    @Test func ninetyPercentEncoderIsAtMostAFifthOfDense() throws {
        let model = try Self.pruned(0.9)
        let dir = Self.temp()
        defer { try? FileManager.default.removeItem(at: dir) }
        try SparseCheckpoint.save(model, to: dir)
        // Bytes of the encoder's linear weights as stored in the file (mask + values), against 4 bytes each dense.
        let (tensors, _) = try Safetensors.read(dir.appendingPathComponent(SparseCheckpoint.weightsFile))
        var compact = 0, dense = 0
        for name in MagnitudePruning.prunableTensors(of: model) {
            dense += 4 * model.parameter(name)!.count
            compact += tensors[name + ".mask"]!.data.count + tensors[name + ".values"]!.data.count
        }
        #expect(Double(compact) <= 0.2 * Double(dense), "\(compact) of \(dense) bytes")
        // The whole file is smaller than the dense file too.
        try model.save(dir.appendingPathComponent("dense"))
        let denseFile = try SparseCheckpoint.fileSize(dir.appendingPathComponent("dense/model.safetensors"))
        #expect(try SparseCheckpoint.fileSize(dir.appendingPathComponent(SparseCheckpoint.weightsFile)) < denseFile)
    }

    @Test func corruptedMaskIsAClearError() throws {
        let model = try Self.pruned(0.5)
        let dir = Self.temp()
        defer { try? FileManager.default.removeItem(at: dir) }
        var (tensors, metadata) = try SparseCheckpoint.tensors(of: model)
        let i = tensors.firstIndex { $0.name.hasSuffix(".mask") }!
        var bytes = [UInt8](tensors[i].bytes)
        bytes[0] ^= 0xFF
        tensors[i] = .u8(tensors[i].name, tensors[i].shape, bytes)
        try SparseCheckpoint.save(model, to: dir)
        try Safetensors.write(tensors, metadata: metadata, to: dir.appendingPathComponent(SparseCheckpoint.weightsFile))
        #expect { try SparseCheckpoint.load(dir) } throws: { "\($0)".contains("bits set") }
        metadata["format"] = "other"
        try Safetensors.write(tensors, metadata: metadata, to: dir.appendingPathComponent(SparseCheckpoint.weightsFile))
        #expect { try SparseCheckpoint.load(dir) } throws: { "\($0)".contains("expected smaller-sparse-v1") }
    }
}
