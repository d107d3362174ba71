// pytorch_model.bin through the zip and restricted-pickle readers: the tensors equal the safetensors copy
// transformers saved beside it (fixtures from Tests/Reference/make_checkpoint_golden.py), a pickle that calls
// anything else is refused by name, and truncated or inconsistent input is refused, never trapped on.
import Foundation
import Testing
import TestSupport
@testable import TensorCore

@Suite struct TorchCheckpointTests {
    static let fixtures = Fixtures.referenceFixtures.appendingPathComponent("checkpoint")

    @Test func pytorchBinHoldsTheSameTensorsAsSafetensors() throws {
        let reference = try Safetensors.read(Self.fixtures.appendingPathComponent("safetensors/model.safetensors")).tensors
        let torch = try TorchCheckpoint.read(Self.fixtures.appendingPathComponent("pytorch/pytorch_model.bin"))
        #expect(reference.count > 10)
        for (name, expected) in reference {
            let t = try #require(torch[name], "pytorch_model.bin lacks \(name)")
            #expect(t.dtype == .F32 && t.shape == expected.shape && t.data == expected.data, "\(name)")
        }
    }

    @Test func halfStoragesConvertLikeFloat16() throws {
        let reference = try Safetensors.read(Self.fixtures.appendingPathComponent("safetensors/model.safetensors")).tensors
        let half = try TorchCheckpoint.read(Self.fixtures.appendingPathComponent("half/pytorch_model.bin"))
        for (name, expected) in reference {
            let t = try #require(half[name], "the fp16 archive lacks \(name)")
            #expect(t.dtype == .F16 && t.shape == expected.shape, "\(name)")
            #expect(t.floats() == expected.floats().map { Float(Float16($0)) }, "\(name)")
        }
    }

    @Test func aPickleThatCallsAnythingElseIsRefusedByName() throws {
        // The generator's archive: data.pkl reduces os.system (pickled as posix.system).
        #expect { _ = try TorchCheckpoint.read(Self.fixtures.appendingPathComponent("malicious.bin")) } throws: {
            "\($0)".contains("refused global posix.system")
        }
        // By hand: GLOBAL os system, an argument tuple, REDUCE; and a BUILD on a global.
        let system = Data([0x80, 0x02]) + Data("cos\nsystem\n".utf8) + Data([0x58, 2, 0, 0, 0]) + Data("ls".utf8) + Data([0x85, 0x52, 0x2E])
        #expect { _ = try RestrictedPickle.load(system) } throws: { "\($0)".contains("refused global os.system") }
        let build = Data([0x80, 0x02]) + Data("ccollections\nOrderedDict\n".utf8) + Data([0x7D, 0x62, 0x2E])
        #expect { _ = try RestrictedPickle.load(build) } throws: { "\($0)".contains("refused BUILD on collections.OrderedDict") }
        // A storage class is a global the reader accepts, but calling it is not.
        let call = Data([0x80, 0x02]) + Data("ctorch\nFloatStorage\n".utf8) + Data([0x29, 0x52, 0x2E])
        #expect { _ = try RestrictedPickle.load(call) } throws: { "\($0)".contains("refused REDUCE on torch.FloatStorage") }
        // An opcode no state dict uses (INST).
        #expect { _ = try RestrictedPickle.load(Data([0x80, 0x02, 0x69]) + Data("os\nsystem\n".utf8)) } throws: { "\($0)".contains("refused opcode 0x69") }
    }

    @Test func truncatedOrCutArchivesAndPicklesAreRefused() throws {
        let bytes = try Data(contentsOf: Self.fixtures.appendingPathComponent("pytorch/pytorch_model.bin"))
        let step = max(1, bytes.count / 300)
        for length in stride(from: 0, to: bytes.count, by: step) {
            #expect(throws: ZipError.self) { _ = try TorchCheckpoint.tensors(in: try ZipArchive(bytes.prefix(length), file: "cut")) }
        }
        // A well-formed archive whose first storage holds half the bytes its pickle says.
        #expect { _ = try TorchCheckpoint.read(Self.fixtures.appendingPathComponent("short-storage.bin")) } throws: {
            "\($0)".contains("(truncated?)")
        }
        // The pickle alone, cut anywhere, is refused too.
        let archive = try ZipArchive(bytes, file: "whole")
        let pickle = try #require(archive.names.first { $0.hasSuffix("data.pkl") }.flatMap(archive.data))
        for length in 0..<pickle.count {
            #expect(throws: PickleError.self) { _ = try RestrictedPickle.load(pickle.prefix(length)) }
        }
        // A pre-1.6 torch.save file is a bare pickle stream: named as such.
        #expect { _ = try ZipArchive(pickle, file: "legacy.bin") } throws: { "\($0)".contains("legacy torch.save file") }
    }

    @Test func stridedViewsGatherAndOutOfRangeViewsAreRefused() throws {
        // A (2, 3) transposed view of a 6-element storage: element (i, j) is storage[offset + i·1 + j·2].
        let storage = PickleStorage(key: "0", dtype: .F32, count: 7)
        let bytes = Data((0..<7).flatMap { withUnsafeBytes(of: Float($0).bitPattern.littleEndian, Array.init) })
        let view = PickleTensor(storage: storage, offset: 1, shape: [2, 3], strides: [1, 2])
        let entry = try TorchCheckpoint.entry(view, storageBytes: bytes, name: "t", file: "f")
        #expect(entry.floats() == [1, 3, 5, 2, 4, 6])
        let outside = PickleTensor(storage: storage, offset: 2, shape: [2, 3], strides: [1, 2])
        #expect(throws: ZipError.self) { _ = try TorchCheckpoint.entry(outside, storageBytes: bytes, name: "t", file: "f") }
        let huge = PickleTensor(storage: storage, offset: 0, shape: [2, 2], strides: [Int.max / 2, 1])
        #expect(throws: ZipError.self) { _ = try TorchCheckpoint.entry(huge, storageBytes: bytes, name: "t", file: "f") }
        let short = PickleStorage(key: "0", dtype: .F32, count: 100)
        #expect(throws: ZipError.self) {
            _ = try TorchCheckpoint.entry(PickleTensor(storage: short, offset: 0, shape: [1], strides: [1]), storageBytes: bytes, name: "t", file: "f")
        }
    }
}
