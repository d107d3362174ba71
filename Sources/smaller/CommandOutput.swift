// How the engine commands end: a runtime failure prints its message (not the usage text a ValidationError
// prints), and JSON output goes through Codable and the record number policy (JSONWriter.encoder).
import ArgumentParser
import Experiment
import Foundation

/// Builds a typed setting from flags; its refusal becomes the flag error (the type's rules, not a copy of them).
@discardableResult
func validatingFlags<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let error as PermanentTaskError { throw ValidationError(error.description) }
}

/// Pretty, key-sorted JSON of an output, as printed and written beside a command's checkpoint.
func prettyJSON<T: Encodable>(_ value: T) throws -> Data {
    try JSONWriter.encoder(pretty: true).encode(value)
}
