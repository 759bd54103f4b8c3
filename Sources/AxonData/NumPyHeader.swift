import AxonCore

/// The header of an `.npy` file, a Python dictionary literal such as
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`, parsed strictly: the three
/// keys once each, nothing else, and a dtype the library can hold.
struct NumPyHeader {
    let descr: String
    let fortranOrder: Bool
    let shape: [Int]
    /// The dtype's kind (`f`, `i`, `u` or `b`), bytes per element and byte order.
    let kind: Character, itemSize: Int, bigEndian: Bool

    private enum Value { case text(String), flag(Bool), tuple([Int]) }

    static func parse(_ text: String) throws(FormatProblem) -> NumPyHeader {
        var scanner = Scanner(Array(text.utf8))
        var fields: [String: Value] = [:]
        do throws(ScanError) {
            try scanner.expect("{")
            while !scanner.take("}") {
                let key = try scanner.string()
                try scanner.expect(":")
                guard fields.updateValue(try scanner.value(), forKey: key) == nil else { throw ScanError.unexpected("'\(key)' twice") }
                if !scanner.take(",") {
                    try scanner.expect("}")
                    break
                }
            }
        } catch {
            throw FormatProblem("its header is not a dictionary literal (\(error.description)): \(text.prefix(200))")
        }
        guard Set(fields.keys) == ["descr", "fortran_order", "shape"],
            case let .text(descr)? = fields["descr"], case let .flag(fortranOrder)? = fields["fortran_order"],
            case let .tuple(shape)? = fields["shape"]
        else {
            throw FormatProblem("its header must hold exactly 'descr' (a string), 'fortran_order' and 'shape'; it is \(text.prefix(200))")
        }
        let characters = Array(descr)
        let supported: [Character: Set<Int>] = ["f": [2, 4, 8], "i": [1, 2, 4, 8], "u": [1, 2, 4, 8], "b": [1]]
        guard characters.count >= 3, "<>|=".contains(characters[0]), let size = Int(String(characters[2...])),
            supported[characters[1]]?.contains(size) == true
        else {
            throw FormatProblem("dtype '\(descr)' is not supported; use float16/32/64, (u)int8 to (u)int64 or bool")
        }
        return NumPyHeader(
            descr: descr, fortranOrder: fortranOrder, shape: shape, kind: characters[1], itemSize: size, bigEndian: characters[0] == ">")
    }

    private init(descr: String, fortranOrder: Bool, shape: [Int], kind: Character, itemSize: Int, bigEndian: Bool) {
        (self.descr, self.fortranOrder, self.shape, self.kind, self.itemSize, self.bigEndian) =
            (descr, fortranOrder, shape, kind, itemSize, bigEndian)
    }

    /// How the elements are laid out, for decoding.
    var layout: ForeignElements {
        let kinds: [Character: ForeignElements.Kind] = ["f": .float, "i": .signed, "u": .unsigned, "b": .bool]
        return ForeignElements(kind: kinds[kind] ?? .bool, size: itemSize, bigEndian: bigEndian)
    }

    private enum ScanError: Error, CustomStringConvertible {
        case unexpected(String)
        var description: String { if case let .unexpected(what) = self { what } else { "" } }
    }

    /// A cursor over the header's bytes that skips white space between tokens.
    private struct Scanner {
        let bytes: [UInt8]
        var position = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        mutating func skipSpace() {
            while position < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[position]) { position += 1 }
        }

        /// Consumes `symbol` if it comes next.
        mutating func take(_ symbol: Character) -> Bool {
            skipSpace()
            guard position < bytes.count, bytes[position] == symbol.asciiValue else { return false }
            position += 1
            return true
        }

        mutating func expect(_ symbol: Character) throws(ScanError) {
            guard take(symbol) else { throw ScanError.unexpected("expected '\(symbol)' at byte \(position)") }
        }

        mutating func string() throws(ScanError) -> String {
            skipSpace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "'") || bytes[position] == UInt8(ascii: "\"") else {
                throw ScanError.unexpected("expected a quoted string at byte \(position)")
            }
            let quote = bytes[position]
            guard let end = bytes[(position + 1)...].firstIndex(of: quote) else { throw ScanError.unexpected("an unterminated string") }
            defer { position = end + 1 }
            return String(decoding: bytes[(position + 1)..<end], as: UTF8.self)
        }

        mutating func value() throws(ScanError) -> Value {
            skipSpace()
            if take("(") {
                var dimensions: [Int] = []
                while !take(")") {
                    dimensions.append(try integer())
                    if !take(",") {
                        try expect(")")
                        break
                    }
                }
                return .tuple(dimensions)
            }
            if position < bytes.count, bytes[position] == UInt8(ascii: "'") || bytes[position] == UInt8(ascii: "\"") {
                return .text(try string())
            }
            for (word, flag) in [("True", true), ("False", false)] where bytes[position...].starts(with: word.utf8) {
                position += word.utf8.count
                return .flag(flag)
            }
            throw ScanError.unexpected("expected a string, True, False or a tuple at byte \(position)")
        }

        mutating func integer() throws(ScanError) -> Int {
            skipSpace()
            let start = position
            while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) { position += 1 }
            guard position > start, let value = Int(String(decoding: bytes[start..<position], as: UTF8.self)) else {
                throw ScanError.unexpected("expected a dimension (a whole number that fits in 64 bits) at byte \(start)")
            }
            if position < bytes.count, bytes[position] == UInt8(ascii: "L") { position += 1 }  // Python 2's long suffix
            return value
        }
    }
}
