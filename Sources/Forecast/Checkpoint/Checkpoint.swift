/// A model with its caller metadata, in a versioned binary format.
///
/// Layout, all integers and floats little-endian, no padding (format version 1):
///
///     offset  size        field
///     0       8           magic "FCSTLSTM" (46 43 53 54 4C 53 54 4D)
///     8       4           format version, UInt32 = 1
///     12      4           inputSize, UInt32
///     16      4           covariates, UInt32
///     20      4           hidden, UInt32
///     24      4           layers, UInt32
///     28      4           lookback, UInt32
///     32      4           horizon, UInt32
///     36      4           dropout, Float32
///     40      1           linearSkip, 0 or 1
///     41      1           quantileOrdering (0 sorted, 1 unconstrained)
///     42      4           quantile count Q, UInt32
///     46      4 Q         quantile levels, Float32
///     ...     4           reserved channel count N, UInt32 (written 0; scaling lives in
///                         the caller's metadata)
///     ...     8 N         reserved, Float32 (skipped when read)
///     ...     4           metadata length M, UInt32
///     ...     M           metadata, opaque bytes
///     ...     8           parameter count P, UInt64 (must equal ParameterLayout(config).count)
///     ...     4 P         parameters, Float32, in ParameterLayout order
///     ...     4           CRC-32 (IEEE) of every byte before it
///
/// Reading checks, in order: length, magic, version, checksum, then every field; it rejects
/// truncated, corrupted and foreign bytes with a `CheckpointError`, and reproduces the saved
/// model bit for bit.
public struct Checkpoint: Sendable, Equatable {
    /// The current (and only) format version.
    public static let formatVersion: UInt32 = 1
    /// The 8 magic bytes at the start of every checkpoint.
    public static let magic: [UInt8] = Array("FCSTLSTM".utf8)

    /// The model, configuration and weights.
    public var model: StackedLSTM
    /// Opaque caller data (for example series id, training window, data watermark).
    public var metadata: [UInt8]

    public init(model: StackedLSTM, metadata: [UInt8] = []) {
        self.model = model
        self.metadata = metadata
    }

    /// The checkpoint's bytes.
    public func serialized() -> [UInt8] {
        var writer = ByteWriter()
        let c = model.configuration
        writer.bytes(Self.magic)
        writer.uint32(Self.formatVersion)
        for value in [c.inputSize, c.covariates, c.hidden, c.layers, c.lookback, c.horizon] {
            writer.uint32(UInt32(value))
        }
        writer.float(c.dropout)
        writer.bytes([c.linearSkip ? 1 : 0, c.quantileOrdering.rawValue])
        writer.uint32(UInt32(c.quantiles.count))
        c.quantiles.forEach { writer.float($0) }
        writer.uint32(0)
        writer.uint32(UInt32(metadata.count))
        writer.bytes(metadata)
        writer.uint64(UInt64(model.parameters.count))
        writer.floats(model.parameters)
        writer.uint32(CRC32.checksum(writer.buffer))
        return writer.buffer
    }

    /// Parses checkpoint bytes.
    ///
    /// Throws `.notACheckpoint` for foreign bytes, `.unsupportedVersion` for other versions,
    /// `.truncated` when the bytes end early, `.checksumMismatch` when they were altered, and
    /// `.invalidContent` for a well-formed, checksummed file with impossible fields.
    public init(bytes: [UInt8]) throws(CheckpointError) {
        guard bytes.count >= Self.magic.count else {
            throw Self.magic.starts(with: bytes) ? .truncated : .notACheckpoint
        }
        guard bytes.starts(with: Self.magic) else { throw .notACheckpoint }
        var reader = ByteReader(bytes: bytes[...])
        reader.offset = Self.magic.count
        let version = try reader.uint32()
        guard version == Self.formatVersion else { throw .unsupportedVersion(version) }
        let checksumMatches = {
            bytes.count >= 4 && CRC32.checksum(bytes[0..<(bytes.count - 4)]) == ByteReader.uint32(bytes.suffix(4))
        }
        let body: Body
        do {
            body = try Body(reader: &reader)
        } catch .invalidContent(let message) {
            throw checksumMatches() ? .invalidContent(message) : .checksumMismatch
        } catch {
            throw error
        }
        guard bytes.count - reader.offset >= 4 else { throw .truncated }
        guard bytes.count - reader.offset == 4 else {
            throw checksumMatches() ? .invalidContent("trailing bytes") : .checksumMismatch
        }
        guard checksumMatches() else { throw .checksumMismatch }
        model = body.model
        metadata = body.metadata
    }

    /// The fields after the version, as read.
    private struct Body {
        let model: StackedLSTM
        let metadata: [UInt8]

        init(reader: inout ByteReader) throws(CheckpointError) {
            func count(_ limit: Int = 1 << 24) throws(CheckpointError) -> Int {
                let value = Int(try reader.uint32())
                guard value <= limit else { throw .invalidContent("count \(value) out of range") }
                return value
            }
            let inputSize = try count()
            let covariates = try count()
            let hidden = try count()
            let layers = try count()
            let lookback = try count()
            let horizon = try count()
            let dropout = try reader.float()
            let flags = try reader.bytes(2)
            guard flags[0] <= 1, let ordering = QuantileOrdering(rawValue: flags[1]) else {
                throw .invalidContent("bad flags")
            }
            let quantiles = try reader.floats(try count(1024))
            let channels = try count(1 << 20)
            _ = try reader.floats(2 * channels)
            metadata = try reader.bytes(try count(Int(UInt32.max)))
            let parameterCount = try reader.uint64()
            let configuration = ModelConfiguration(
                inputSize: inputSize, covariates: covariates, hidden: hidden, layers: layers, lookback: lookback,
                horizon: horizon, quantiles: quantiles, dropout: dropout, linearSkip: flags[0] == 1,
                quantileOrdering: ordering)
            do {
                try configuration.validate()
            } catch {
                throw .invalidContent(error.message)
            }
            guard parameterCount == UInt64(ParameterLayout(configuration).count) else {
                throw .invalidContent("parameter count \(parameterCount) does not match the configuration")
            }
            let parameters = try reader.floats(Int(parameterCount))
            do {
                model = try StackedLSTM(configuration: configuration, parameters: parameters)
            } catch {
                throw .invalidContent(error.message)
            }
        }
    }
}

/// Why checkpoint bytes were rejected.
public enum CheckpointError: Error, Sendable, Equatable {
    /// The bytes end before the format says they should.
    case truncated
    /// The bytes do not start with the checkpoint magic.
    case notACheckpoint
    /// A format version this build cannot read.
    case unsupportedVersion(UInt32)
    /// The CRC-32 does not match: the bytes were altered.
    case checksumMismatch
    /// The checksum matches but a field is impossible (written by a buggy or foreign writer).
    case invalidContent(String)
}
