// The whole-model finite-difference check shared by the engine, per-layer-shape and distillation tests.

/// One parameter tensor to check: its values (perturbed in place, then restored) and its analytic gradients.
public struct FiniteDifferenceTensor {
    public let name: String
    public let values: UnsafeMutablePointer<Float>
    public let gradients: UnsafePointer<Float>
    public let count: Int
    public init(name: String, values: UnsafeMutablePointer<Float>, gradients: UnsafePointer<Float>, count: Int) {
        self.name = name; self.values = values; self.gradients = gradients; self.count = count
    }
}

/// Central differences of `loss` at each tensor's largest analytic entry and two entries drawn by `pick(count)`,
/// compared with the analytic gradient under `Tolerance.finiteDifference*`. Returns how many entries were
/// checked and one message per entry that disagrees.
public func finiteDifferenceCheck(_ tensors: [FiniteDifferenceTensor], pick: (Int) -> Int,
                                  loss: () -> Double) -> (checked: Int, mismatches: [String]) {
    var checked = 0
    var mismatches: [String] = []
    let h = Tolerance.finiteDifferenceStep
    for t in tensors {
        let p = t.values, g = t.gradients
        var indices = [(0..<t.count).max { abs(g[$0]) < abs(g[$1]) }!]
        indices += [pick(t.count), pick(t.count)]
        for i in indices {
            let saved = p[i]
            p[i] = saved + h; let up = loss()
            p[i] = saved - h; let down = loss()
            p[i] = saved
            let fd = Float((up - down) / Double(2 * h))
            let ok = abs(fd - g[i]) <= Tolerance.finiteDifferenceRelative * max(abs(fd), abs(g[i])) + Tolerance.finiteDifferenceAbsolute
            if !ok { mismatches.append("\(t.name)[\(i)]: finite difference \(fd) vs analytic \(g[i])") }
            checked += 1
        }
    }
    return (checked, mismatches)
}
