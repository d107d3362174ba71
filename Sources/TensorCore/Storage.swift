// Flat Float storage, 64-byte aligned, and a light tensor view (pointer + shape) over it.
import Foundation

/// A fixed-size, zero-initialised, 64-byte-aligned buffer of Float. Owns its memory; views point into it.
/// Reference type so that many named views can share one allocation (the llm.c flat-buffer style).
package final class FloatBuffer: @unchecked Sendable {
    package let pointer: UnsafeMutablePointer<Float>
    package let count: Int

    package init(count: Int) {
        precondition(count >= 0, "FloatBuffer: negative count")
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
        self.count = count
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }

    package var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }
    package func zero() { pointer.update(repeating: 0, count: count) }
    package func copy(from other: FloatBuffer) {
        precondition(other.count == count, "FloatBuffer.copy: sizes differ")
        pointer.update(from: other.pointer, count: count)
    }
    package var array: [Float] { Array(buffer) }
}

/// A view of `shape` floats, row-major, starting at `pointer`. Does not own memory.
package struct Tensor: @unchecked Sendable {
    package let pointer: UnsafeMutablePointer<Float>
    package let shape: [Int]

    package init(_ pointer: UnsafeMutablePointer<Float>, _ shape: [Int]) {
        self.pointer = pointer
        self.shape = shape
    }

    package var count: Int { shape.reduce(1, *) }
    package var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }
    package subscript(i: Int) -> Float {
        get { pointer[i] }
        nonmutating set { pointer[i] = newValue }
    }
    package var array: [Float] { Array(buffer) }
}

/// A bump allocator over one FloatBuffer: activations are carved once from it and reused every step.
package struct Arena {
    package let storage: FloatBuffer
    private(set) var used = 0

    package init(count: Int) { storage = FloatBuffer(count: count) }

    /// Takes `shape` floats, rounded up to a 16-float (64-byte) boundary so each view stays aligned.
    package mutating func take(_ shape: [Int]) -> Tensor {
        let n = shape.reduce(1, *)
        precondition(used + n <= storage.count, "Arena: out of space (\(used) + \(n) > \(storage.count))")
        let t = Tensor(storage.pointer + used, shape)
        used += (n + 15) / 16 * 16
        return t
    }

    /// Floats needed for a list of shapes laid out by `take`.
    package static func size(_ shapes: [[Int]]) -> Int {
        shapes.reduce(0) { $0 + ($1.reduce(1, *) + 15) / 16 * 16 }
    }
}
