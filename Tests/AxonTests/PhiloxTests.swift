import AxonCore
import Backend
import Testing

@Suite("Philox-4x32-10")
struct PhiloxTests {
    // Known-answer vectors published with Random123 (Salmon et al., SC 2011), tests/kat_vectors.
    @Test("matches Random123's known-answer vectors")
    func knownAnswers() {
        let cases: [((UInt32, UInt32, UInt32, UInt32), Philox.Key, [UInt32])] = [
            ((0, 0, 0, 0), Philox.Key(0, 0), [0x6627_E8D5, 0xE169_C58D, 0xBC57_AC4C, 0x9B00_DBD8]),
            ((0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF), Philox.Key(0xFFFF_FFFF, 0xFFFF_FFFF),
             [0x408F_276D, 0x41C8_3B0E, 0xA20B_C7C6, 0x6D54_51FD]),
            ((0x243F_6A88, 0x85A3_08D3, 0x1319_8A2E, 0x0370_7344), Philox.Key(0xA409_3822, 0x299F_31D0),
             [0xD16C_FE09, 0x94FD_CCEB, 0x5001_E420, 0x2412_6EA1]),
        ]
        for (counter, key, expected) in cases {
            let block = Philox.block(counter: counter, key: key)
            #expect([block.0, block.1, block.2, block.3] == expected)
        }
    }

    @Test("a stream read at an offset continues the stream read from zero")
    func streamOffsets() {
        let key = Philox.Key(seed: 7)
        let whole = Philox.bits(key: key, offset: 0, count: 23)
        #expect(Philox.bits(key: key, offset: 5, count: 18) == Array(whole[5...]))
        let block = Philox.block(counter: (1, 0, 0, 0), key: key)
        #expect(Array(whole[4..<8]) == [block.0, block.1, block.2, block.3])
    }

    @Test("folded keys differ per tag and are stable")
    func folding() {
        let key = Philox.Key(seed: 1)
        #expect(key.folded(with: "dense_0.kernel") == key.folded(with: "dense_0.kernel"))
        #expect(key.folded(with: "dense_0.kernel") != key.folded(with: "dense_0.bias"))
        #expect(key.folded(with: 1 as UInt64) != key.folded(with: 2 as UInt64))
    }

    @Test("unit floats cover [0, 1) exactly at the ends")
    func unitFloats() {
        #expect(Philox.unitFloat(0) == 0)
        #expect(Philox.unitFloat(.max) == 1 - 0x1p-24)
        #expect(Philox.unitFloat(1 << 31) == 0.5)
    }
}
