import Foundation

/// The JSON settings of every file the library writes (checkpoint headers, model graphs):
/// sorted keys, so equal contents give equal bytes, and non-finite numbers as the strings
/// `nan`, `inf` and `-inf`, which JSON has no numbers for.
enum LibraryJSON {
    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }

    static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return decoder
    }
}
