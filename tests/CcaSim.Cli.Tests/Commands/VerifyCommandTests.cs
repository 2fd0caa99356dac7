using System.Text;
using System.Text.Json;
using CcaSim.Attestation;

namespace CcaSim.Cli.Tests.Commands;

/// <summary>
/// Issue 12 item 4: <c>ccasim verify --rim</c> with hex or a reference-values file, the claims as JSON, named failed
/// checks, and tokens from the third-party vectors and from <c>ccasim rmm</c>.
/// </summary>
public sealed class VerifyCommandTests : IDisposable
{
    private static readonly byte[] s_challenge = Filled(64, 0x11);
    private static readonly byte[] s_rpv = Filled(64, 0x22);
    private static readonly byte[] s_rim = Filled(32, 0x33);
    private static readonly byte[][] s_rems = [Filled(32, 0x41), Filled(32, 0x42), Filled(32, 0x43), Filled(32, 0x44)];
    private readonly string _dir = Directory.CreateTempSubdirectory("ccasim-verify-").FullName;
    private readonly string _token;

    public VerifyCommandTests()
    {
        _token = Path.Combine(_dir, "token.cbor");
        PlatformDescription platform = PlatformDescription.Default;
        File.WriteAllBytes(_token, platform.CreateToken(platform.CreateRealmClaims(s_challenge, s_rpv, RealmHashAlgorithm.Sha256, s_rim, s_rems)));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Rim_AsMatchingHex_Verifies()
    {
        (int code, string output, string error) = CcasimProcess.Run("", "verify", "--rim", Hex(s_rim), _token);

        Assert.Equal(0, code);
        Assert.Equal("", error);
        Assert.StartsWith("OK Rel0 token, ", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Rim_AsOtherHex_FailsTheRimCheckByName()
    {
        string wrong = new('0', 64);

        (int code, string output, string error) = CcasimProcess.Run("", "verify", "--rim", "0x" + wrong, _token);

        Assert.Equal(1, code);
        Assert.Equal("", error);
        Assert.Equal($"FAIL ExpectedInitialMeasurement: RIM is {Hex(s_rim)}, expected {wrong}\n", output);
    }

    [Fact]
    public void Rim_AsMatchingReferenceValuesFile_PrintsWhatVerifyWithoutExpectationsPrints()
    {
        string file = Write("ref.json", Reference(Hex(s_rim), rpv: Hex(s_rpv), rems: s_rems.Select(Hex).ToArray()));

        (int code, string output, string error) = CcasimProcess.Run("", "verify", "--rim", file, _token);
        (int plainCode, string plain, _) = CcasimProcess.Run("", "verify", _token);

        Assert.Equal(0, code);
        Assert.Equal("", error);
        Assert.Equal(0, plainCode);
        Assert.Equal(plain, output);
    }

    [Fact]
    public void Rim_AsReferenceValuesFileWithAnotherRim_FailsTheRimCheckByName()
    {
        string other = new('a', 64);
        string file = Write("ref.json", Reference(other));

        (int code, string output, string error) = CcasimProcess.Run("", "verify", "--rim", file, _token);

        Assert.Equal(1, code);
        Assert.Equal("", error);
        Assert.Equal($"FAIL ExpectedInitialMeasurement: RIM is {Hex(s_rim)}, expected {other}\n", output);
    }

    [Fact]
    public void ReferenceValuesFile_WithOtherRpvAndRem2_NamesBothChecks()
    {
        string[] rems = [null!, Hex(Filled(32, 0x99)), null!, null!];
        string file = Write("ref.json", Reference(Hex(s_rim), rpv: new string('0', 128), rems: rems));

        (int code, string output, _) = CcasimProcess.Run("", "verify", "--rim", file, _token);

        Assert.Equal(1, code);
        string[] lines = output.TrimEnd('\n').Split('\n');
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("FAIL ExpectedPersonalizationValue: RPV is 2222", lines[0], StringComparison.Ordinal);
        Assert.StartsWith($"FAIL ExpectedExtensibleMeasurement: REM2 is {Hex(s_rems[1])}, expected 9999", lines[1], StringComparison.Ordinal);
    }

    [Fact]
    public void RemOption_OverridesTheReferenceValuesFilesRems()
    {
        string file = Write("ref.json", Reference(Hex(s_rim), rems: [new string('0', 64), null!, null!, null!]));

        (int code, _, string error) = CcasimProcess.Run("", "verify", "--rim", file, "--rem", Hex(s_rems[0]), _token);

        Assert.Equal(0, code);
        Assert.Equal("", error);
    }

    [Fact]
    public void ReferenceValuesFile_ForSha512_NamesTheHashAlgorithmCheck()
    {
        string file = Write("ref.json", Reference(new string('3', 128), algorithm: "sha-512"));

        (int code, string output, _) = CcasimProcess.Run("", "verify", "--rim", file, _token);

        Assert.Equal(1, code);
        Assert.Contains("FAIL ExpectedHashAlgorithm: realm hash algorithm is sha-256, expected sha-512\n", output, StringComparison.Ordinal);
        Assert.Contains("FAIL ExpectedInitialMeasurement: ", output, StringComparison.Ordinal);
    }

    [Fact]
    public void ReferenceValuesFile_WithAnotherPlatformInstance_NamesThePlatformCheck()
    {
        string instance = "01" + new string('f', 64);
        string file = Write("ref.json", $$$"""{"format":"ccasim-reference-values/1","hash_algorithm":"sha-256","rim":"{{{Hex(s_rim)}}}","platform":{"instance_id":"{{{instance}}}","profile":"tag:arm.com,2023:cca_platform#1.0.0"}}""");

        (int code, string output, _) = CcasimProcess.Run("", "verify", "--rim", file, _token);

        Assert.Equal(1, code);
        Assert.StartsWith("FAIL ExpectedPlatformInstanceId: instance id is ", output, StringComparison.Ordinal);
        Assert.Single(output.TrimEnd('\n').Split('\n'));
    }

    /// <summary>Malformed reference-values files: one line naming the file and the problem, exit 2, nothing on stdout.</summary>
    [Theory]
    [InlineData("truncated", """{"format":"ccasim-reference-values/1","hash_algorithm":"sha-256","rim":"00""", "not valid JSON")]
    [InlineData("truncated-object", """{"format":"ccasim-reference-values/1",""", "not valid JSON")]
    [InlineData("empty", "", "it is empty")]
    [InlineData("array", "[1,2]", "it is a JSON array, not an object")]
    [InlineData("rim-number", """{"format":"ccasim-reference-values/1","hash_algorithm":"sha-256","rim":12}""", "rim is a JSON number; it must be a string")]
    [InlineData("rems-object", """{"format":"ccasim-reference-values/1","hash_algorithm":"sha-256","rim":"RIM","rems":{}}""", "rems is a JSON object; it must be an array of 4 hex strings (or nulls)")]
    [InlineData("rems-3", """{"format":"ccasim-reference-values/1","hash_algorithm":"sha-256","rim":"RIM","rems":[null,null,null]}""", "rems has 3 entries; a realm has 4 (REM1..REM4)")]
    [InlineData("platform-string", """{"format":"ccasim-reference-values/1","hash_algorithm":"sha-256","rim":"RIM","platform":"x"}""", "platform is a JSON string; it must be an object")]
    [InlineData("bad-hex", """{"format":"ccasim-reference-values/1","hash_algorithm":"sha-256","rim":"zz"}""", "rim is not hex: \"zz\"")]
    [InlineData("odd-hex", """{"format":"ccasim-reference-values/1","hash_algorithm":"sha-256","rim":"abc"}""", "rim is not hex: \"abc\"")]
    [InlineData("short-rim", """{"format":"ccasim-reference-values/1","hash_algorithm":"sha-256","rim":"0011"}""", "rim is 2 bytes; it must be 32 bytes")]
    [InlineData("sha512-short-rim", """{"format":"ccasim-reference-values/1","hash_algorithm":"sha-512","rim":"RIM"}""", "rim is 32 bytes; it must be 64 bytes")]
    [InlineData("bad-rpv", """{"format":"ccasim-reference-values/1","hash_algorithm":"sha-256","rim":"RIM","personalization_value":"00"}""", "personalization_value is 1 bytes; it must be 64 bytes")]
    [InlineData("bad-rem", """{"format":"ccasim-reference-values/1","hash_algorithm":"sha-256","rim":"RIM","rems":[null,"xy",null,null]}""", "rems[1] is not hex: \"xy\"")]
    [InlineData("bad-instance", """{"format":"ccasim-reference-values/1","hash_algorithm":"sha-256","rim":"RIM","platform":{"instance_id":"01"}}""", "platform.instance_id is 1 bytes; it must be 33 bytes")]
    [InlineData("missing-rim", """{"format":"ccasim-reference-values/1","hash_algorithm":"sha-256"}""", "member 'rim' is missing")]
    [InlineData("missing-format", """{"hash_algorithm":"sha-256","rim":"RIM"}""", "member 'format' is missing; it must be \"ccasim-reference-values/1\"")]
    [InlineData("other-format", """{"format":"ccasim-reference-values/2","hash_algorithm":"sha-256","rim":"RIM"}""", "format is \"ccasim-reference-values/2\"; this ccasim reads \"ccasim-reference-values/1\"")]
    [InlineData("missing-algorithm", """{"format":"ccasim-reference-values/1","rim":"RIM"}""", "member 'hash_algorithm' is missing")]
    [InlineData("sha384", """{"format":"ccasim-reference-values/1","hash_algorithm":"sha-384","rim":"RIM"}""", "hash_algorithm is \"sha-384\"; it must be \"sha-256\" or \"sha-512\"")]
    [InlineData("duplicate", """{"format":"ccasim-reference-values/1","hash_algorithm":"sha-256","rim":"RIM","rim":"RIM"}""", "member 'rim' appears twice")]
    [InlineData("trailing", """{"format":"ccasim-reference-values/1","hash_algorithm":"sha-256","rim":"RIM"} {}""", "not valid JSON")]
    [InlineData("comment", """{"format":"ccasim-reference-values/1", /* x */ "hash_algorithm":"sha-256","rim":"RIM"}""", "not valid JSON")]
    [InlineData("deep", """{"format":"ccasim-reference-values/1","hash_algorithm":"sha-256","rim":"RIM","x":[[[[[[[[[[[[]]]]]]]]]]]]}""", "not valid JSON")]
    public void MalformedReferenceValuesFile_IsOneLineAndExit2(string name, string json, string problem)
    {
        string file = Write(name + ".json", json.Replace("\"RIM\"", $"\"{Hex(s_rim)}\"", StringComparison.Ordinal));

        (int code, string output, string error) = CcasimProcess.Run("", "verify", "--rim", file, _token);

        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.StartsWith($"ccasim verify: reference values file '{file}': {problem}", error, StringComparison.Ordinal);
        AssertOneLine(error);
    }

    [Fact]
    public void ReferenceValuesFile_NotUtf8_IsOneLineAndExit2()
    {
        string file = Path.Combine(_dir, "latin1.json");
        File.WriteAllBytes(file, [.. Encoding.ASCII.GetBytes("{\"format\":\"ccasim-reference-values/1\",\"hash_algorithm\":\""), 0xff, 0xfe, (byte)'"', (byte)'}']);

        (int code, string output, string error) = CcasimProcess.Run("", "verify", "--rim", file, _token);

        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.StartsWith($"ccasim verify: reference values file '{file}': ", error, StringComparison.Ordinal);
        AssertOneLine(error);
    }

    [Fact]
    public void ReferenceValuesFile_Huge_IsRefusedAfterTheCap()
    {
        string file = Path.Combine(_dir, "huge.json");
        File.WriteAllText(file, "{\"format\":\"ccasim-reference-values/1\",\"pad\":\"" + new string(' ', 100_000) + "\"}");

        (int code, string output, string error) = CcasimProcess.Run("", "verify", "--rim", file, _token);

        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Equal($"ccasim verify: reference values file '{file}' is larger than 65536 bytes; not a reference values file\n", error);
    }

    [Theory]
    [InlineData("/nonexistent-ccasim.json", "ccasim verify: reference values file '/nonexistent-ccasim.json' does not exist\n")]
    [InlineData("", "ccasim verify: --rim is empty; it takes hex or a reference-values file\n")]
    [InlineData("abc", "ccasim verify: --rim 'abc' is not hex\n")]
    public void Rim_NeitherHexNorAFile_IsOneLineAndExit2(string value, string expected)
    {
        (int code, string output, string error) = CcasimProcess.Run("", "verify", "--rim", value, _token);

        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Equal(expected, error);
    }

    [Fact]
    public void Json_OfAValidToken_ParsesAndCarriesTheClaims()
    {
        (int code, string output, string error) = CcasimProcess.Run("", "verify", "--json", "--rim", Hex(s_rim), _token);

        Assert.Equal(0, code);
        Assert.Equal("", error);
        using var doc = JsonDocument.Parse(output);
        JsonElement root = doc.RootElement;
        Assert.True(root.GetProperty("valid").GetBoolean());
        Assert.Equal("Rel0", root.GetProperty("form").GetString());
        Assert.Equal(new FileInfo(_token).Length, root.GetProperty("token_bytes").GetInt64());
        Assert.Equal(0, root.GetProperty("failures").GetArrayLength());
        JsonElement realm = root.GetProperty("realm");
        Assert.Equal(Hex(s_challenge), realm.GetProperty("challenge").GetString());
        Assert.Equal(Hex(s_rpv), realm.GetProperty("personalization_value").GetString());
        Assert.Equal(Hex(s_rim), realm.GetProperty("rim").GetString());
        Assert.Equal(s_rems.Select(Hex), realm.GetProperty("rems").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("sha-256", realm.GetProperty("hash_algorithm").GetString());
        Assert.Equal("sha-256", realm.GetProperty("public_key_hash_algorithm").GetString());
        Assert.Equal(ClaimValues.RealmProfile, realm.GetProperty("profile").GetString());
        JsonElement platform = root.GetProperty("platform");
        PlatformClaims expected = PlatformDescription.Default.CreatePlatformClaims();
        Assert.Equal(ClaimValues.PlatformProfile, platform.GetProperty("profile").GetString());
        Assert.Equal(Hex(expected.ImplementationId), platform.GetProperty("implementation_id").GetString());
        Assert.Equal(Hex(expected.InstanceId), platform.GetProperty("instance_id").GetString());
        Assert.Equal(Hex(expected.Config), platform.GetProperty("config").GetString());
        Assert.Equal(expected.Lifecycle, platform.GetProperty("lifecycle").GetUInt64());
        Assert.Equal(expected.SoftwareComponents.Count, platform.GetProperty("software_components").GetArrayLength());
        JsonElement check = Assert.Single(root.GetProperty("checks").EnumerateArray());
        Assert.Equal("realm.rim", check.GetProperty("claim").GetString());
        Assert.True(check.GetProperty("ok").GetBoolean());
    }

    [Fact]
    public void Json_OfAWrongExpectation_ListsTheFailedCheck_AndExits1()
    {
        (int code, string output, _) = CcasimProcess.Run("", "verify", "--json", "--rpv", new string('0', 128), _token);

        Assert.Equal(1, code);
        using var doc = JsonDocument.Parse(output);
        Assert.False(doc.RootElement.GetProperty("valid").GetBoolean());
        JsonElement failure = Assert.Single(doc.RootElement.GetProperty("failures").EnumerateArray());
        Assert.Equal("ExpectedPersonalizationValue", failure.GetProperty("check").GetString());
        Assert.StartsWith("RPV is 2222", failure.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Json_OfNotAToken_HasNullClaims()
    {
        string file = Write("junk.cbor", "junk");

        (int code, string output, _) = CcasimProcess.Run("", "verify", "--json", file);

        Assert.Equal(1, code);
        using var doc = JsonDocument.Parse(output);
        Assert.Equal("CollectionTag", doc.RootElement.GetProperty("failures")[0].GetProperty("check").GetString());
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("realm").ValueKind);
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("platform").ValueKind);
    }

    [Fact]
    public void TamperedToken_NamesTheFailedSignatureCheck()
    {
        byte[] token = File.ReadAllBytes(_token);
        token[^1] ^= 0x01; // the last byte of the realm token's signature
        string file = Write("tampered.cbor", "");
        File.WriteAllBytes(file, token);

        (int code, string output, string error) = CcasimProcess.Run("", "verify", file);

        Assert.Equal(1, code);
        Assert.Equal("", error);
        Assert.StartsWith("FAIL RealmSignature: ", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("cca-token-draft-ffm-00.cbor", "cca_platform.pem", "Rel0")]
    [InlineData("cca-token-01.cbor", "realm_testvectors_tf-rmm_cca_platform.pub", "Legacy")]
    public void ThirdPartyVectors_StillVerify(string token, string key, string form)
    {
        string data = Path.Combine(AppContext.BaseDirectory, "TestData");

        (int code, string output, string error) = CcasimProcess.Run("", "verify", "--platform-key", Path.Combine(data, key), Path.Combine(data, token));
        (int jsonCode, string json, _) = CcasimProcess.Run("", "verify", "--json", "--platform-key", Path.Combine(data, key), Path.Combine(data, token));

        Assert.Equal(0, code);
        Assert.Equal("", error);
        Assert.StartsWith($"OK {form} token, {new FileInfo(Path.Combine(data, token)).Length} bytes\n", output, StringComparison.Ordinal);
        Assert.Equal(0, jsonCode);
        using var doc = JsonDocument.Parse(json);
        Assert.Equal(form, doc.RootElement.GetProperty("form").GetString());
    }

    [Fact]
    public void ThirdPartyVector_WithTheSimulatorsKey_NamesThePlatformSignatureCheck()
    {
        string token = Path.Combine(AppContext.BaseDirectory, "TestData", "cca-token-draft-ffm-00.cbor");

        (int code, string output, _) = CcasimProcess.Run("", "verify", token);

        Assert.Equal(1, code);
        Assert.StartsWith("FAIL PlatformSignature: ", output, StringComparison.Ordinal);
    }

    [Fact]
    public void TokenFromCcasimRmm_VerifiesAgainstItsChallengeAndRim()
    {
        string tokenFile = Path.Combine(_dir, "realm-token.cbor");
        string script = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "examples", "realm-rsi.rmm"))
            .Replace("/tmp/realm-token.cbor", tokenFile, StringComparison.Ordinal);
        (int rmmCode, _, _) = CcasimProcess.Run(script, "rmm");
        string readmeChallenge = "11110000000000002222000000000000333300000000000044440000000000005555000000000000666600000000000077770000000000008888000000000000";
        string file = Write("ref.json", Reference("342cfb857cedf6e204415a485f972baaebec3bd32df99f210d5b91e32253c19e"));

        (int code, string output, string error) = CcasimProcess.Run("", "verify", tokenFile, "--challenge", readmeChallenge, "--rim", file);

        Assert.Equal(0, rmmCode);
        Assert.Equal(0, code);
        Assert.Equal("", error);
        Assert.StartsWith("OK Rel0 token, 1782 bytes\n", output, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadmesReferenceValuesExample_MatchesTheReadmesToken()
    {
        string tokenFile = Path.Combine(_dir, "realm-token.cbor");
        string script = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "examples", "realm-rsi.rmm"))
            .Replace("/tmp/realm-token.cbor", tokenFile, StringComparison.Ordinal);
        CcasimProcess.Run(script, "rmm");
        string readme = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "README.md"));
        int start = readme.IndexOf("```json\n{\n  \"format\": \"ccasim-reference-values/1\"", StringComparison.Ordinal) + "```json\n".Length;
        string file = Write("readme.json", readme[start..readme.IndexOf("```", start, StringComparison.Ordinal)]);

        (int code, string output, string error) = CcasimProcess.Run("", "verify", tokenFile, "--rim", file);

        Assert.Equal("", error);
        Assert.Equal(0, code);
        Assert.StartsWith("OK Rel0 token, 1782 bytes\n", output, StringComparison.Ordinal);
    }

    private string Write(string name, string text)
    {
        string file = Path.Combine(_dir, name);
        File.WriteAllText(file, text);
        return file;
    }

    private static string Reference(string rim, string algorithm = "sha-256", string? rpv = null, string?[]? rems = null)
    {
        string Quote(string? s) => s is null ? "null" : $"\"{s}\"";
        string remsJson = rems is null ? "null" : "[" + string.Join(", ", rems.Select(Quote)) + "]";
        return $$"""{"format": "ccasim-reference-values/1", "hash_algorithm": "{{algorithm}}", "rim": "{{rim}}", "personalization_value": {{Quote(rpv)}}, "rems": {{remsJson}}}""";
    }

    private static void AssertOneLine(string error)
    {
        Assert.EndsWith("\n", error, StringComparison.Ordinal);
        Assert.Single(error.TrimEnd('\n').Split('\n'));
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
    }

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);

    private static byte[] Filled(int length, byte value)
    {
        byte[] b = new byte[length];
        b.AsSpan().Fill(value);
        return b;
    }
}
