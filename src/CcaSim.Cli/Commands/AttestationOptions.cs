using System.CommandLine;
using System.Security.Cryptography;
using CcaSim.Attestation;

namespace CcaSim.Cli.Commands;

/// <summary>
/// Options naming the platform's attestation identity: a seed for the deterministic default keys and claims,
/// and optionally the user's own platform key (CPAK) and realm attestation key (RAK), P-384 private keys in PEM.
/// </summary>
internal sealed class AttestationOptions
{
    private readonly Option<string> _seed = new("--attestation-seed") { Description = "Seed of the platform's attestation keys and claims.", DefaultValueFactory = _ => PlatformDescription.DefaultSeed };
    private readonly Option<string?> _platformKey = new("--platform-key-pem") { Description = "Platform attestation private key (P-384, PEM) instead of the seeded one." };
    private readonly Option<string?> _rak = new("--rak-pem") { Description = "Realm attestation private key (P-384, PEM) instead of the seeded one." };

    public void AddTo(Command command)
    {
        command.Options.Add(_seed);
        command.Options.Add(_platformKey);
        command.Options.Add(_rak);
    }

    /// <summary>The platform description the options name, or null with <paramref name="problem"/> saying why not.</summary>
    public PlatformDescription? Resolve(ParseResult parse, out string? problem)
    {
        problem = null;
        PlatformDescription platform = PlatformDescription.FromSeed(parse.GetValue(_seed)!);
        foreach ((string? file, bool isPlatform) in new[] { (parse.GetValue(_platformKey), true), (parse.GetValue(_rak), false) })
        {
            if (file is null)
            {
                continue;
            }

            problem = InputFiles.TryOpen(file, "key file", out FileStream? stream);
            if (problem is not null)
            {
                return null;
            }

            byte[] bytes;
            using (stream)
            {
                BoundedRead read = InputFiles.ReadBounded(stream!, VerifyCommand.MaxKeyBytes, out bytes, out string? ioError);
                problem = read switch
                {
                    BoundedRead.TooLarge => $"key file '{file}' is larger than {VerifyCommand.MaxKeyBytes} bytes; not a PEM key",
                    BoundedRead.IoError => $"key file '{file}' cannot be read: {ioError}",
                    _ => null,
                };
            }

            if (problem is not null)
            {
                return null;
            }

            try
            {
                string pem = System.Text.Encoding.UTF8.GetString(bytes);
                platform = isPlatform ? platform.WithPlatformKeyPem(pem) : platform.WithRealmAttestationKeyPem(pem);
            }
            catch (Exception e) when (e is ArgumentException or CryptographicException)
            {
                problem = $"key file '{file}' is not a P-384 private key in PEM: {PemKeys.Reason(e)}";
                return null;
            }
        }

        return platform;
    }
}
