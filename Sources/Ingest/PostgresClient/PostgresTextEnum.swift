/// An enum stored as one of a fixed set of `text` values (a column with a CHECK ... IN
/// constraint): sent as its raw value, decoded from it, and a value outside the set is a
/// decoding error naming it, never a crash.
public protocol PostgresTextEnum: RawRepresentable, PostgresEncodable, PostgresDecodable
where RawValue == String {}

extension PostgresTextEnum {
    public static var postgresType: PostgresType { .unspecified }
    public static var sendsAsText: Bool { true }
    public func encode(into buffer: inout [UInt8]) { rawValue.encode(into: &buffer) }

    public static func decode(_ bytes: UnsafeRawBufferPointer, type: PostgresType) throws(PostgresError) -> Self {
        let text = try String.decode(bytes, type: type)
        guard let value = Self(rawValue: text) else {
            throw PostgresError(.decoding, "unexpected \(Self.self) value '\(text)'")
        }
        return value
    }
}
