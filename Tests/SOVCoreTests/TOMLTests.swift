import PropertyBased
import SOVCore
import Testing

/// Parses or records the issue, so a failing case names its input.
private func parse(_ text: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) -> JSONValue {
    do {
        return try TOML.parse(text)
    } catch {
        Issue.record("unexpected TOML error \(error) for:\n\(text)", sourceLocation: sourceLocation)
        return .null
    }
}

private let emptyObject = JSONValue.object([JSONMember]())

private func failure(_ text: String) -> TOMLError? {
    do {
        _ = try TOML.parse(text)
        return nil
    } catch {
        return error
    }
}

@Suite struct TOMLTests {
    @Test func profileExample() throws {
        let text = """
            # SOVBridge profile
            [fields]
            "Job_No" = "Job_Number"
            approved_status_codes = ["A", "AP"]
            money = { thousands_separators = true, parentheses = false }

            [[markups]]
            name = "Contractor's Fee"
            set = "vertical"
            percent = "3.5"
            position = 1

            [jobs."24-1017"]
            retainage = 10.25
            dry_run = false
            """
        let expected: JSONValue = .object([
            "fields": .object([
                "Job_No": .string("Job_Number"),
                "approved_status_codes": .array([.string("A"), .string("AP")]),
                "money": .object(["thousands_separators": .bool(true), "parentheses": .bool(false)]),
            ]),
            "markups": .array([
                .object([
                    "name": .string("Contractor's Fee"),
                    "set": .string("vertical"),
                    "percent": .string("3.5"),
                    "position": .number("1"),
                ])
            ]),
            "jobs": .object(["24-1017": .object(["retainage": .number("10.25"), "dry_run": .bool(false)])]),
        ])
        #expect(try TOML.parse(text) == expected)
        #expect(try TOML.parse(text).text
            == #"{"fields":{"Job_No":"Job_Number","approved_status_codes":["A","AP"],"money":{"thousands_separators":true,"parentheses":false}},"markups":[{"name":"Contractor's Fee","set":"vertical","percent":"3.5","position":1}],"jobs":{"24-1017":{"retainage":10.25,"dry_run":false}}}"#)
    }

    @Test func emptyDocumentsAndComments() {
        #expect(parse("") == emptyObject)
        #expect(parse("\u{FEFF}a = 1") == .object(["a": .number("1")]))
        #expect(parse("# only a comment") == emptyObject)
        #expect(parse("\n\n  \t\n# c\r\n") == emptyObject)
        #expect(parse("a = 1 # trailing comment\r\nb = 2\r\n") == .object(["a": .number("1"), "b": .number("2")]))
        #expect(parse("\ta\t=\t\"x\"\t# tabs") == .object(["a": .string("x")]))
        #expect(parse("a = \"# not a comment\"") == .object(["a": .string("# not a comment")]))
    }

    @Test func keys() {
        let text = """
            bare_key-1 = 1
            1234 = 2
            "quoted \\"key\\" \\u00E9" = 3
            'literal \\key' = 4
            "" = 5
            site . "google.com" . ip = 6
            3.14159 = "pi"
            """
        #expect(parse(text) == .object([
            "bare_key-1": .number("1"),
            "1234": .number("2"),
            "quoted \"key\" é": .number("3"),
            "literal \\key": .number("4"),
            "": .number("5"),
            "site": .object(["google.com": .object(["ip": .number("6")])]),
            "3": .object(["14159": .string("pi")]),
        ]))
    }

    @Test func dottedKeysBuildTablesInDocumentOrder() {
        let text = """
            fruit.apple.color = "red"
            fruit.apple.taste.sweet = true
            fruit.orange = 2
            """
        #expect(parse(text) == .object([
            "fruit": .object([
                "apple": .object(["color": .string("red"), "taste": .object(["sweet": .bool(true)])]),
                "orange": .number("2"),
            ])
        ]))
    }

    @Test func tablesAndImplicitSuperTables() {
        let text = """
            top = 0
            [x.y.z]
            a = 1
            [ x . w ]
            b = 2
            [x]
            c = 3
            [fruit]
            apple.color = "red"
            [fruit.apple.texture]
            smooth = true
            [p.q.r]
            [p]
            q.s = 1
            """
        #expect(parse(text) == .object([
            "top": .number("0"),
            "x": .object([
                "y": .object(["z": .object(["a": .number("1")])]),
                "w": .object(["b": .number("2")]),
                "c": .number("3"),
            ]),
            "fruit": .object(["apple": .object(["color": .string("red"), "texture": .object(["smooth": .bool(true)])])]),
            "p": .object(["q": .object(["r": emptyObject, "s": .number("1")])]),
        ]))
    }

    @Test func arraysOfTables() {
        let text = """
            [[fruits]]
            name = "apple"
            [fruits.physical]
            color = "red"
            [[fruits.varieties]]
            name = "red delicious"
            [[fruits.varieties]]
            name = "granny smith"
            [[fruits]]
            name = "banana"
            [[fruits.varieties]]
            name = "plantain"
            [[empty]]
            [[empty]]
            """
        #expect(parse(text) == .object([
            "fruits": .array([
                .object([
                    "name": .string("apple"),
                    "physical": .object(["color": .string("red")]),
                    "varieties": .array([.object(["name": .string("red delicious")]), .object(["name": .string("granny smith")])]),
                ]),
                .object(["name": .string("banana"), "varieties": .array([.object(["name": .string("plantain")])])]),
            ]),
            "empty": .array([emptyObject, emptyObject]),
        ]))
    }

    @Test func manyArrayElementsAndSubTablesOfDottedTables() {
        let text = "a.b.c = 1\n[a.b.d]\ne = 2\n" + String(repeating: "[[item]]\nn = 1\n", count: 10_000)
        let value = parse(text)
        #expect(value["a"] == .object(["b": .object(["c": .number("1"), "d": .object(["e": .number("2")])])]))
        #expect(value["item"]?.arrayValue?.count == 10_000)
        #expect(value["item"]?.arrayValue?.last == .object(["n": .number("1")]))
    }

    @Test func inlineTables() {
        let text = #"""
            name = { first = "Tom", last = "Preston-Werner" }
            point = {x=1,y=2}
            empty = {}
            nested = { a = { b = { c = [1, { d = "e" }] } }, f.g = 7, f.h = 8 }
            """#
        #expect(parse(text) == .object([
            "name": .object(["first": .string("Tom"), "last": .string("Preston-Werner")]),
            "point": .object(["x": .number("1"), "y": .number("2")]),
            "empty": emptyObject,
            "nested": .object([
                "a": .object(["b": .object(["c": .array([.number("1"), .object(["d": .string("e")])])])]),
                "f": .object(["g": .number("7"), "h": .number("8")]),
            ]),
        ]))
    }

    @Test func basicStringEscapes() {
        let text = #"""
            s = "tab\there \"q\" back\\slash \b\f\n\r \u00E9 \U0001F600 \u0000"
            """#
        #expect(parse(text) == .object(["s": .string("tab\there \"q\" back\\slash \u{08}\u{0C}\n\r é 😀 \u{0}")]))
        #expect(parse("s = \"unicode é 😀 kept\"") == .object(["s": .string("unicode é 😀 kept")]))
    }

    @Test func literalStrings() {
        #expect(parse(#"p = 'C:\Users\nodejs\templates'"#) == .object(["p": .string(#"C:\Users\nodejs\templates"#)]))
        #expect(parse(#"q = '<\i\c*\s*>'"#) == .object(["q": .string(#"<\i\c*\s*>"#)]))
        #expect(parse("e = ''") == .object(["e": .string("")]))
    }

    @Test func multilineBasicStrings() {
        let text = "a = \"\"\"\nRoses are red\r\nViolets are blue\"\"\"\n"
            + "b = \"\"\"\\\n    The quick \\\n\n    brown fox.\\\n    \"\"\"\n"
            + "c = \"\"\"Here are two quotes: \"\". Ends with a quote:\"\"\"\"\n"
            + "d = \"\"\"\"\"x\"\"\"\"\"\n"
            + "e = \"\"\"line-ending backslash with trailing spaces \\   \n  next\"\"\"\n"
            + "f = \"\"\"escapes \\t \\u00E9\"\"\""
        #expect(parse(text) == .object([
            "a": .string("Roses are red\nViolets are blue"),
            "b": .string("The quick brown fox."),
            "c": .string("Here are two quotes: \"\". Ends with a quote:\""),
            "d": .string("\"\"x\"\""),
            "e": .string("line-ending backslash with trailing spaces next"),
            "f": .string("escapes \t é"),
        ]))
    }

    @Test func multilineLiteralStrings() {
        let text = "regex = '''I [dw]on't need \\d{2} apples'''\n"
            + "lines = '''\nThe first newline is\ntrimmed in raw strings.\n   All other whitespace\n   is preserved.\n'''\n"
            + "quotes = ''''That,' she said, 'is still pointless.''''"
        #expect(parse(text) == .object([
            "regex": .string("I [dw]on't need \\d{2} apples"),
            "lines": .string("The first newline is\ntrimmed in raw strings.\n   All other whitespace\n   is preserved.\n"),
            "quotes": .string("'That,' she said, 'is still pointless.'"),
        ]))
    }

    @Test(arguments: [
        ("+99", "99"), ("42", "42"), ("0", "0"), ("-17", "-17"), ("+0", "0"), ("-0", "0"),
        ("1_000", "1000"), ("5_349_221", "5349221"), ("1_2_3_4_5", "12345"),
        ("0xDEADBEEF", "3735928559"), ("0xdead_beef", "3735928559"), ("0x00ff", "255"),
        ("0o01234567", "342391"), ("0o755", "493"), ("0b11010110", "214"), ("0b0", "0"),
        ("9223372036854775807", "9223372036854775807"), ("-9223372036854775808", "-9223372036854775808"),
        ("0x7FFFFFFFFFFFFFFF", "9223372036854775807"),
    ])
    func integers(written: String, expected: String) throws {
        #expect(parse("n = \(written)") == .object(["n": .number(expected)]))
    }

    @Test(arguments: [
        ("+1.0", "1.0"), ("3.1415", "3.1415"), ("-0.01", "-0.01"), ("5e+22", "5e+22"), ("1e06", "1e06"),
        ("-2E-2", "-2E-2"), ("6.626e-34", "6.626e-34"), ("224_617.445_991_228", "224617.445991228"),
        ("0.0", "0.0"), ("-0.0", "-0.0"), ("+0.0", "0.0"), ("1e1_0", "1e10"), ("0e0", "0e0"),
        ("10.25", "10.25"), ("299.00", "299.00"),
    ])
    func floatsKeepTheirText(written: String, expected: String) throws {
        let value = parse("x = \(written)")
        #expect(value == .object(["x": .number(expected)]))
        // The text must be valid JSON number grammar.
        #expect(try JSONParser.parse(value.text) == value)
    }

    @Test func booleans() {
        #expect(parse("t = true\nf = false") == .object(["t": .bool(true), "f": .bool(false)]))
    }

    @Test func arrays() {
        let text = """
            empty = []
            ints = [ 1, 2, 3, ]
            mixed = [ "a", 'b', 1.5, true, [1, [2]], { x = 1 }, 1979-05-27 ]
            spread = [
              1, # first
              # a comment line
              2
              ,
              3,
            ]
            nested = [[], [[]]]
            """
        #expect(parse(text) == .object([
            "empty": .array([]),
            "ints": .array([.number("1"), .number("2"), .number("3")]),
            "mixed": .array([
                .string("a"), .string("b"), .number("1.5"), .bool(true),
                .array([.number("1"), .array([.number("2")])]), .object(["x": .number("1")]), .string("1979-05-27"),
            ]),
            "spread": .array([.number("1"), .number("2"), .number("3")]),
            "nested": .array([.array([]), .array([.array([])])]),
        ]))
    }

    @Test(arguments: [
        "1979-05-27T07:32:00Z", "1979-05-27T00:32:00-07:00", "1979-05-27T00:32:00.999999+07:00",
        "1979-05-27 07:32:00Z", "1979-05-27t07:32:00z", "1979-05-27T07:32:00", "1979-05-27T00:32:00.999999",
        "1979-05-27", "2024-02-29", "07:32:00", "00:32:00.999999", "23:59:60",
    ])
    func datesAndTimesKeepTheirText(written: String) {
        #expect(parse("d = \(written)") == .object(["d": .string(written)]))
        #expect(parse("d = [\(written), \(written)]") == .object(["d": .array([.string(written), .string(written)])]))
    }

    @Test(arguments: [
        // Duplicates and redefinitions.
        ("a = 1\nb = 2\na = 3", 3, "duplicate key 'a'"),
        ("a.b = 1\na.b = 2", 2, "duplicate key 'a.b'"),
        ("a = 1\r\nb = 2\r\nb = 3", 3, "duplicate key 'b'"),
        ("s = \"\"\"\none\ntwo \\\n\n  three\"\"\"\ns = 1", 6, "duplicate key 's'"),
        ("a = 1\na.b = 2", 2, "already a value"),
        ("[a]\nx = 1\n\n[a]", 4, "defined twice"),
        ("[a.b]\n[a]\n[a]", 3, "defined twice"),
        ("[a]\nb = 1\n[a.b]", 3, "conflicts with the key"),
        ("[fruit]\napple.color = 'red'\n[fruit.apple]", 3, "dotted keys"),
        ("[a.b.c]\nz = 9\n[a]\nb.c.t = 1", 4, "defined by a header"),
        ("[a.b.c.d]\n  z = 9\n[a]\n  b.c.d.k.t = 1", 4, "defined by a header"),
        ("[a.b.c]\n[a]\nb.d = 1\n[a.b]", 4, "dotted keys"),
        ("a.b = 1\n[a]", 2, "dotted keys"),
        ("t = { a = 1 }\nt.b = 2", 2, "inline table"),
        ("t = { a = 1 }\n[t]", 2, "inline table"),
        ("t = { a = 1 }\n[t.b]", 2, "inline table"),
        ("t = { a = 1, a = 2 }", 1, "duplicate key 'a'"),
        ("arr = [1]\n[[arr]]", 2, "array defined as a value"),
        ("[[arr]]\n[arr]", 2, "array of tables"),
        ("[a]\n[[a]]", 2, "not an array of tables"),
        ("[[a]]\nb.c = 1\n[a]\n", 3, "array of tables"),
        ("[[t.arr]]\n[t]\narr.x = 1", 3, "array of tables"),
        // Keys and structure.
        ("= 1", 1, "expected a key"),
        ("a", 1, "expected '='"),
        ("a =", 1, "expected a value"),
        ("a = \n1", 1, "expected a value"),
        ("a = 1 b = 2", 1, "end of the line"),
        ("[]", 1, "expected a key"),
        ("[a", 1, "expected ']'"),
        ("[[a]", 1, "']]'"),
        ("[a]x = 1", 1, "end of the line"),
        ("\"\"\"k\"\"\" = 1", 1, "multi-line"),
        ("a.  = 1", 1, "expected a key"),
        ("ключ = 1", 1, "expected a key"),
        ("a = 1\r b = 2", 1, "carriage return"),
        ("# comment \u{7F}\na = 1", 1, "control character"),
        // Strings.
        ("a = 1\ns = \"open", 2, "unterminated"),
        ("s = \"line\nbreak\"", 1, "unterminated"),
        ("s = 'open", 1, "unterminated"),
        ("s = \"\"\"never closed\n", 2, "unterminated"),
        ("s = '''never closed", 1, "unterminated"),
        ("s = \"bad \\x escape\"", 1, "invalid escape"),
        ("s = \"\\uD800\"", 1, "not a Unicode scalar"),
        ("s = \"\\U00110000\"", 1, "not a Unicode scalar"),
        ("s = \"\\u12\"", 1, "hexadecimal digits"),
        ("s = \"tab\\ \"", 1, "invalid escape"),
        ("s = \"nul \u{0}\"", 1, "control character"),
        ("s = \"\"\"x\"\"\"\"\"\"", 1, "too many quotes"),
        // Numbers.
        ("n = 0123", 1, "leading zeros"),
        ("n = 1__000", 1, "malformed number"),
        ("n = _1", 1, "expected a value"),
        ("n = 1_", 1, "malformed number"),
        ("n = 9223372036854775808", 1, "64 bits"),
        ("n = 0x8000000000000000", 1, "64 bits"),
        ("n = -0x1", 1, "cannot have a sign"),
        ("n = 0x", 1, "malformed integer"),
        ("n = 0b102", 1, "malformed integer"),
        ("n = 1.", 1, "digits after the '.'"),
        ("n = .5", 1, "expected a value"),
        ("n = 1e", 1, "exponent"),
        ("n = 1.5.2", 1, "malformed number"),
        ("n = inf", 1, "no JSON equivalent"),
        ("n = -inf", 1, "no JSON equivalent"),
        ("n = +nan", 1, "no JSON equivalent"),
        ("n = 1x", 1, "malformed number"),
        ("b = True", 1, "expected a value"),
        ("b = truely", 1, "end of the line"),
        // Dates and times.
        ("d = 2023-02-29", 1, "malformed date"),
        ("d = 1979-13-01", 1, "malformed date"),
        ("d = 1979-05-27T25:00:00", 1, "malformed date"),
        ("d = 1979-05-27T07:32", 1, "malformed date"),
        ("d = 07:60:00", 1, "malformed date"),
        ("d = 1979-05-27T07:32:00+7:00", 1, "malformed date"),
        ("d = 07:32:00Z", 1, "malformed date"),
        // Arrays and inline tables.
        ("a = [1 2]", 1, "expected ','"),
        ("a = [1,,2]", 1, "expected a value"),
        ("a = [,]", 1, "expected a value"),
        ("a = [\n1,\n2", 3, "unterminated array"),
        ("t = { a = 1, }", 1, "expected a key"),
        ("t = { a = 1\n}", 1, "one line"),
        ("t = { a = 1 b = 2 }", 1, "expected ','"),
        ("t = { a = 1", 1, "unterminated inline table"),
    ])
    func errorsNameTheirLine(text: String, line: Int, message: String) {
        guard let error = failure(text) else {
            Issue.record("expected an error for:\n\(text)")
            return
        }
        #expect(error.line == line, "\(error)")
        #expect(error.message.contains(message), "\(error)")
    }

    @Test func nestingIsBounded() {
        let depth = TOML.maximumDepth
        // The value of `a` sits at depth 1, so `depth` nested arrays reach the limit exactly.
        let deepest = "a = " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        #expect(parse(deepest) != .null)
        let tooDeep = "a = " + String(repeating: "[", count: depth + 1) + String(repeating: "]", count: depth + 1)
        #expect(failure(tooDeep)?.message.contains("nesting") == true)

        let hostileArrays = "a = " + String(repeating: "[", count: 100_000)
        #expect(failure(hostileArrays)?.line == 1)
        let hostileTables = "a = " + String(repeating: "{b=", count: 100_000)
        #expect(failure(hostileTables)?.message.contains("nesting") == true)
        let longHeader = "\n[" + Array(repeating: "k", count: 10_000).joined(separator: ".") + "]"
        #expect(failure(longHeader)?.line == 2)
        let longDottedKey = Array(repeating: "k", count: 10_000).joined(separator: ".") + " = 1"
        #expect(failure(longDottedKey)?.message.contains("nesting") == true)
    }

    @Test func configFileReadsTOMLAndJSON() throws {
        let toml = """
            [fields]
            "Job_No" = "Job_Number"
            codes = ["A", "AP"]
            [[markups]]
            name = "Fee"
            percent = "3.5"
            """
        let json = #"{"fields":{"Job_No":"Job_Number","codes":["A","AP"]},"markups":[{"name":"Fee","percent":"3.5"}]}"#
        let fromTOML = try ConfigFile.parse(Array(toml.utf8), name: "profile.toml")
        let fromJSON = try ConfigFile.parse(Array(json.utf8), name: "profile.JSON")
        #expect(fromTOML == fromJSON)
        #expect(fromTOML.text == json)
        #expect(fromTOML["fields"]?["Job_No"] == .string("Job_Number"))

        do {
            _ = try ConfigFile.parse(Array("a = 1\na = 2".utf8), name: "bad.toml")
            Issue.record("a duplicate key must be rejected")
        } catch {
            #expect(error.code == .FMT010)
            #expect(error.location.file == "bad.toml")
            #expect(error.location.line == 2)
        }
        do {
            _ = try ConfigFile.parse([0x61, 0x20, 0x3D, 0x20, 0x22, 0xFF, 0x22], name: "latin1.toml")
            Issue.record("invalid UTF-8 must be rejected")
        } catch {
            #expect(error.code == .FMT008)
        }
    }

    // MARK: Never crash

    /// Checks what must hold for any input: either a TOMLError on a line that exists, or an
    /// object whose JSON text reads back as the same value (so every number text is valid JSON).
    private static func checkTotal(_ text: String) {
        do {
            let value = try TOML.parse(text)
            #expect(value.members != nil)
            #expect((try? JSONParser.parse(value.text)) == value, "JSON round trip of \(value.text)")
        } catch {
            let lines = text.utf8.count { $0 == 0x0A || $0 == 0x0D } + 1
            #expect(error.line >= 1 && error.line <= lines, "\(error) for \(text.debugDescription)")
        }
    }

    @Test func randomBytesNeverCrash() async {
        await propertyCheck(count: 2000, input: Gen<UInt8>.value(in: 0...255).array(of: 0...120)) { bytes in
            Self.checkTotal(String(decoding: bytes, as: UTF8.self))
            _ = try? ConfigFile.parse(bytes, name: "random.toml")
            _ = try? ConfigFile.parse(bytes, name: "random.json")
        }
    }

    /// Bytes that matter to TOML's grammar, so mutations land on interesting paths.
    private static let alphabet: [String] = [
        "[", "]", "[[", "]]", "{", "}", "\"", "'", "\"\"\"", "'''", "\\", "\\u", "\\U", "=", ".", ",", "#",
        "\n", "\r", "\r\n", "\t", " ", "0", "1", "9", "+", "-", "_", ":", "e", "E", "x", "o", "b", "T", "Z",
        "true", "false", "inf", "nan", "1979-05-27", "07:32:00", "a", "é", "😀", "\u{0}", "\u{7F}",
    ]

    private static let seeds: [String] = [
        """
        # SOVBridge profile
        [fields]
        "Job_No" = "Job_Number"
        approved_status_codes = ["A", "AP"]
        money = { thousands_separators = true, parentheses = false }

        [[markups]]
        name = "Contractor's Fee"
        set = "vertical"
        percent = "3.5"
        position = 1

        [jobs."24-1017"]
        retainage = 10.25
        dry_run = false
        """,
        "a.b.c = 0x1F\n[x.y]\nd = 1979-05-27T07:32:00Z\ns = '''\nraw\n'''\nm = \"\"\"\\\n  esc \\u00E9\"\"\"\n[[z]]\nf = -1_0.5e+2\nt = [1, [2, {q = 3}],]\n",
    ]

    @Test func mutatedDocumentsNeverCrash() async {
        let choices = Gen<Int>.int(in: 0...Int(Int32.max)).array(of: 1...8)
        await propertyCheck(count: 3000, input: Gen<Int>.int(in: 0...1), choices) { seedIndex, choices in
            var bytes = Array(Self.seeds[seedIndex].utf8)
            for choice in choices {
                let position = (choice / 3) % (bytes.count + 1)
                let insertion = Array(Self.alphabet[(choice / 3 / 4096) % Self.alphabet.count].utf8)
                switch choice % 3 {
                case 0: bytes.insert(contentsOf: insertion, at: position)
                case 1 where position < bytes.count: bytes.remove(at: position)
                default: bytes.replaceSubrange(position..<min(position + 1, bytes.count), with: insertion)
                }
            }
            Self.checkTotal(String(decoding: bytes, as: UTF8.self))
        }
    }
}
