import Foundation
import SOVCore
import SOVTestSupport
import Testing
@testable import SOVDelivery

/// Delivery against tools/standins/spectrum_standin.py, started per test.
@Suite(.timeLimit(.minutes(1))) struct SpectrumEndToEndTests {
    static let units = [SpectrumFixtures.unit007, SpectrumFixtures.unit004]

    /// Every unit's change request is stored exactly once, with exactly the unit's amounts.
    func expectStoredOnce(_ standIn: SpectrumStandIn, units: [String]) throws {
        let stored = try standIn.state()["change_requests"]?.arrayValue ?? []
        #expect(stored.count == units.count)
        for text in units {
            let unit = try SpectrumUnit.parse(Array(text.utf8))
            let matches = stored.filter { entry in
                [entry["company"], entry["job"], entry["customer"], entry["number"]].map { $0?.stringValue ?? "" } == unit.key
            }
            try #require(matches.count == 1, "\(unit.key) stored \(matches.count) times")
            let expected = try SpectrumAmounts(unit: unit)
            #expect(try SpectrumAmounts(stored: matches[0]) == expected)
            #expect(matches[0]["estimates"]?.arrayValue?.count == expected.estimates.count)
            #expect(matches[0]["billing"]?.arrayValue?.count == expected.billing.count)
            #expect(matches[0]["header"]?["CR_Status"]?.stringValue == "A")
        }
    }

    @Test func deliversTheTwoExampleUnits() throws {
        let standIn = try SpectrumStandIn()
        defer { standIn.stop() }
        let deliverer = standIn.deliverer()
        for unit in Self.units {
            #expect(deliverer.deliver(unitXML: Array(unit.utf8)) == .delivered(records: 4))
        }
        try expectStoredOnce(standIn, units: Self.units)
        // Delivering again (a re-run) updates the same change requests.
        #expect(deliverer.deliver(unitXML: Array(SpectrumFixtures.unit007.utf8)) == .delivered(records: 4))
        try expectStoredOnce(standIn, units: Self.units)
        let log = try standIn.requests()
        #expect(log.count == 12)
        #expect(log.allSatisfy { $0["answer"]?.stringValue == "G" && $0["records"]?.intValue == 1 })
    }

    @Test func faultsLostAnswersAndGUIDTimeoutsStillStoreEachChangeRequestOnce() throws {
        let standIn = try SpectrumStandIn(guidTimeoutAfter: 3)
        defer { standIn.stop() }
        try standIn.setFaults(#"{"every_nth_fault": 3, "lose_response": [{"skip": 1, "count": 1}, {"skip": 3, "count": 1}]}"#)
        let deliverer = standIn.deliverer()
        for unit in Self.units {
            #expect(deliverer.deliver(unitXML: Array(unit.utf8)) == .delivered(records: 4))
        }
        try expectStoredOnce(standIn, units: Self.units)
        let answers = try standIn.requests().compactMap { $0["answer"]?.stringValue }
        #expect(answers.contains("fault:Server"))
        #expect(answers.contains { $0.hasSuffix(":lost") })
        #expect(answers.contains("A"))  // the GUID time-out row
        let guids = Set(try standIn.requests().compactMap { $0["guid"]?.stringValue })
        #expect(guids.count > 2)  // each unit's own GUID plus at least one renewal
    }

    @Test func refusedChangeRequestKeepsSpectrumsWords() throws {
        let standIn = try SpectrumStandIn()
        defer { standIn.stop() }
        try standIn.setFaults(#"{"refuse_numbers": [{"number": "004", "column": "CR_Status", "desc": "Change request 004 is tied to a draw request"}]}"#)
        let outcome = standIn.deliverer().deliver(unitXML: Array(SpectrumFixtures.unit004.utf8))
        #expect(outcome == .refused(problems: [(0, "I", "CR_Status", "Change request 004 is tied to a draw request")], acceptedRecords: []))
        #expect(try standIn.state()["change_requests"]?.arrayValue?.isEmpty == true)
    }

    @Test func refusalNamesTheRecordsAcceptedBeforeIt() throws {
        let standIn = try SpectrumStandIn()
        defer { standIn.stop() }
        // The third record's billing description exceeds Spectrum's 30 characters.
        var text = SpectrumFixtures.unit007
        let first = try #require(text.range(of: "<CR_Billing_Item_Description>Temp fence extension and owner</CR_Billing_Item_Description>"))
        text.replaceSubrange(first, with: "<CR_Billing_Item_Description>Temp fence extension and owner AV</CR_Billing_Item_Description>")
        let outcome = standIn.deliverer().deliver(unitXML: Array(text.utf8))
        #expect(outcome == .refused(
            problems: [(2, "I", "CR_Billing_Item_Description", "CR_Billing_Item_Description exceeds the maximum length of 30")],
            acceptedRecords: [0, 1]))
        let stored = try #require(standIn.state()["change_requests"]?.arrayValue)
        #expect(stored.count == 1)
        #expect(stored.first?["estimates"]?.arrayValue?.count == 2)
        #expect(stored.first?["billing"]?.arrayValue?.isEmpty == true)
    }

    @Test func wrongAuthorizationIDIsNotAuthorized() throws {
        let standIn = try SpectrumStandIn()
        defer { standIn.stop() }
        let outcome = standIn.deliverer(authorizationID: "not-the-one").deliver(unitXML: Array(SpectrumFixtures.unit007.utf8))
        #expect(outcome == .notAuthorized("The Web Service is not authorized. Authorization ID is not setup in the system. (Authorization_ID)"))
        #expect(!outcome.description.contains("not-the-one"))
        #expect(try standIn.state()["change_requests"]?.arrayValue?.isEmpty == true)
        #expect(try standIn.requests().count == 1)
    }
}
