using System.Security.Cryptography;
using System.Text.Json;

namespace CcaSim.Attestation;

/// <summary>
/// A platform trust anchor as Veraison stores it: the CPAK, keyed by instance id (and implementation id).
/// Verifiers find the CPAK by the instance id in the platform claims (attestation.md §4 step 2).
/// </summary>
public sealed record TrustAnchor(byte[]? InstanceId, byte[]? ImplementationId, ECParameters Key)
{
    /// <summary>Reads a Veraison trust-anchor list: a JSON array of {"instance-id", "implementation-id" (hex), "pkey" (JWK)}.</summary>
    /// <exception cref="FormatException">The JSON is not such a list.</exception>
    public static IReadOnlyList<TrustAnchor> ParseList(string json)
    {
        try
        {
            using JsonDocument doc = JsonDocument.Parse(json);
            var anchors = new List<TrustAnchor>();
            foreach (JsonElement e in doc.RootElement.EnumerateArray())
            {
                anchors.Add(new TrustAnchor(
                    e.TryGetProperty("instance-id", out JsonElement inst) ? Convert.FromHexString(inst.GetString() ?? "") : null,
                    e.TryGetProperty("implementation-id", out JsonElement impl) ? Convert.FromHexString(impl.GetString() ?? "") : null,
                    AttestationKeys.FromJwk(e.GetProperty("pkey"))));
            }

            return anchors;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException)
        {
            throw new FormatException("not a Veraison trust-anchor list: " + e.Message, e);
        }
    }
}
