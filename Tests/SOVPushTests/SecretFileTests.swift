import Foundation
import SOVBatch
import SOVCore
import SOVFrontEnd
import SOVPush
import SOVTestSupport
import Testing

struct SecretFileTests {
    let folder = TemporaryFolder("sov-secret")

    func file(_ text: String, mode: Int16) throws -> String {
        let path = folder.write("secret-\(folder.names().count)", text)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        return path
    }

    @Test func aSecretFileMustBeItsOwnersAlone() throws {
        let open = try file("s3cret\n", mode: 0o644)
        #expect(throws: OptionsError.self) { try SecretFile.read(open, setting: "procore.client_secret_file") }
        do {
            _ = try SecretFile.read(open, setting: "procore.client_secret_file")
        } catch {
            #expect(error.message.contains("mode 644") && error.message.contains("chmod 600"))
            #expect(!error.message.contains("s3cret"))
        }
        let closed = try file("s3cret\n", mode: 0o600)
        #expect(try SecretFile.read(closed, setting: "procore.client_secret_file") == "s3cret")
        #expect(throws: OptionsError.self) { try SecretFile.read("/nonexistent/secret", setting: "x") }
    }

    @Test func missingSettingsAreNamedAndSecretsNeverShown() throws {
        let configuration = try DeliveryConfiguration.resolve(
            BatchSettings([.procoreCompanyId: .text("4264807")]), environment: ["PROCORE_CLIENT_SECRET": "hunter2"])
        #expect(configuration.procore == nil)
        #expect(configuration.procoreMissing == ["procore.client_id (or --procore-client-id)"])
        let complete = try DeliveryConfiguration.resolve(
            BatchSettings([.procoreCompanyId: .text("4264807"), .procoreClientId: .text("abc"), .procoreAPIURL: .text("http://127.0.0.1:9")]),
            environment: ["PROCORE_CLIENT_SECRET": "hunter2"])
        let settings = try #require(complete.procore)
        #expect(settings.apiURL.absoluteString == "http://127.0.0.1:9")
        #expect(!"\(settings)".contains("hunter2"))
        #expect(throws: OptionsError.self) {
            try DeliveryConfiguration.resolve(BatchSettings([.procoreCompanyId: .text("acme")]), environment: [:])
        }
    }
}
