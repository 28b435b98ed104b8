//! Built-in detectors: SaaS, developer-platform, payment and messaging credentials.
//! Patterns are ported from the gitleaks / Nosey Parker / TruffleHog rules quoted in
//! docs/notes/detector-breadth.md (Appendix A) to linear-time Rust regexes, each behind
//! a literal prefix or keyword gate.

use super::token::{Many, TokenMatcher, before, classes, entropy, high, near};
use crate::detect::{BuiltinDetector, Confidence, Gate};

/// The SaaS secret detectors.
pub const DETECTORS: &[BuiltinDetector] = &[
    BuiltinDetector {
        id: "twilio_credentials",
        description: "Twilio API key (SK + 32 hex) or account SID with its 32-hex auth token",
        region: "global",
        validator: "",
        joinable: false,
        gate: Gate::AnyByte(b"SA"),
        keywords: &["twilio", "auth token", "account sid", "api key"],
        keyword_window: 60,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "twilio key SK2a9c1e7b3d5a8f0e6c2b9d1a7f3e5c8b",
            "TWILIO_ACCOUNT_SID=AC4f2a9c1e7b3d5a8f0e6c2b9d1a7f3e5c TWILIO_AUTH_TOKEN=9d1a7f3e5c8b0d2a4f6e8c0a2b4d6f8e",
            "SK0123456789abcdef0123456789ABCDEF",
        ],
        negative_examples: &[
            "SK00000000000000000000000000000000",
            "AC4f2a9c1e7b3d5a8f0e6c2b9d1a7f3e5c",
            "SKU 1234",
        ],
        build: || {
            Box::new(Many(vec![
                Box::new(TokenMatcher::new(r"(?-u:\b)SK[0-9a-fA-F]{32}(?-u:\b)", |t, s, e| {
                    let v = &t[s + 2..e];
                    (entropy(v) >= 3.0
                        && v.bytes().any(|b| b.is_ascii_alphabetic())
                        && v.bytes().any(|b| b.is_ascii_digit()))
                    .then_some(Confidence::High)
                })),
                // An auth token counts next to an account SID (TruffleHog's pairing).
                Box::new(TokenMatcher::new(r"(?-u:\b)[0-9a-f]{32}(?-u:\b)", |t, s, e| {
                    (before_sid(t, s) && entropy(&t[s..e]) >= 3.0).then_some(Confidence::High)
                })),
            ]))
        },
    },
    BuiltinDetector {
        id: "sendgrid_api_key",
        description: "SendGrid API key (SG. + 22 + . + 43)",
        region: "global",
        validator: "",
        joinable: false,
        gate: Gate::AnyLiteral(&["sg."]),
        keywords: &["sendgrid", "api key", "smtp"],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "SENDGRID_API_KEY=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",
            "key 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 is live",
            "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",
        ],
        negative_examples: &[
            "SG.short.key",
            "email SG.team about it",
            "SG.ngeVfQFYQlKU0ufo8x5d1A.TwL2iGABf9DHoTf",
        ],
        build: || {
            Box::new(TokenMatcher::new(
                r"(?-u:\b)(SG\.[0-9A-Za-z_-]{22}\.[0-9A-Za-z_-]{43})(?:[^0-9A-Za-z_-]|$)",
                high,
            ))
        },
    },
    BuiltinDetector {
        id: "shopify_token",
        description: "Shopify access token or shared secret (shpat_/shpca_/shppa_/shpss_ + 32 hex)",
        region: "global",
        validator: "",
        joinable: false,
        gate: Gate::AnyLiteral(&["shpat_", "shpca_", "shppa_", "shpss_"]),
        keywords: &["shopify", "token", "admin api"],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "SHOPIFY_TOKEN=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",
            "shpss_0123456789abcdef0123456789ABCDEF",
            "custom app 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",
        ],
        negative_examples: &[
            "shpat_short",
            "shpat_4f2a9c1e7b3d5a8f0e6c2b9d1a7f3e5g",
            "shpxx_4f2a9c1e7b3d5a8f0e6c2b9d1a7f3e5c",
        ],
        build: || Box::new(TokenMatcher::new(r"(?-u:\b)shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}(?-u:\b)", high)),
    },
    BuiltinDetector {
        id: "npm_token",
        description: "npm access token (npm_ + 36; the last 6 characters are a base62 CRC32 of the first 30)",
        region: "global",
        validator: "crc32_base62",
        joinable: false,
        gate: Gate::AnyLiteral(&["npm_"]),
        keywords: &["npm", "npmrc", "_authtoken", "registry"],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "//registry.npmjs.org/:_authToken=npm_Xq3LhV9mR2pT7wYc8nK1bD4fG6jH0s2rCEWR",
            "NPM_TOKEN=npm_a1B2c3D4e5F6g7H8i9J0kLm1N2o3P4q5R6s7",
            "npm_ZZ9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0Pp9Oo8",
        ],
        negative_examples: &[
            "npm_short",
            "npm_install_all_the_packages_today_ok",
            "npm_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        ],
        build: || {
            Box::new(TokenMatcher::new(r"(?-u:\b)npm_[A-Za-z0-9]{36}(?-u:\b)", |t, s, e| {
                let v = &t[s + 4..e];
                if crc32_base62_ok(v) {
                    return Some(Confidence::High);
                }
                (entropy(v) >= 3.5 && classes(v) >= 2).then_some(Confidence::Medium)
            }))
        },
    },
    BuiltinDetector {
        id: "pypi_token",
        description: "PyPI upload token (pypi-AgEIcHlwaS5vcmc…, a macaroon for pypi.org)",
        region: "global",
        validator: "",
        joinable: false,
        gate: Gate::AnyLiteral(&["pypi-ageichlwas5vcmc"]),
        keywords: &["pypi", "twine", "token"],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "TWINE_PASSWORD=pypi-AgEIcHlwaS5vcmcCJDRmMmE5YzFlLTdiM2QtNWE4Zi0wZTZjLTJiOWQxYTdmM2U1YwACKlszLCI",
            "password = pypi-AgEIcHlwaS5vcmcCJGFhMTFiYjIyLWNjMzMtZGQ0NC1lZTU1LWZmNjY3Nzg4OTkwMAACJXsicGVybWlzc2lvbnMiOiAidXNlciJ9",
            "pypi-AgEIcHlwaS5vcmcCJDAxMjM0NTY3LTg5YWItY2RlZi0wMTIzLTQ1Njc4OWFiY2RlZgAC",
        ],
        negative_examples: &["pypi-AgEIcHlwaS5vcmc", "pypi-AgEIcHlwaS5vcmcshort", "pypi-token-here"],
        build: || {
            Box::new(TokenMatcher::new(
                r"(?-u:\b)(pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,1000})(?:[^A-Za-z0-9_-]|$)",
                high,
            ))
        },
    },
    BuiltinDetector {
        id: "dockerhub_pat",
        description: "Docker Hub personal access token (dckr_pat_ + 27)",
        region: "global",
        validator: "",
        joinable: false,
        gate: Gate::AnyLiteral(&["dckr_pat_"]),
        keywords: &["docker", "docker hub", "dockerhub", "token"],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "docker login -u acme -p dckr_pat_Xq3LhV9mR2pT7wYc8nK1bD4fG6j",
            "DOCKERHUB_TOKEN=dckr_pat_a1B2-c3D4_kPkenG5ZFJoC6vWCB",
            "dckr_pat_ZZ9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1",
        ],
        negative_examples: &["dckr_pat_short", "dckr_pat_", "dckr_pat_Xq3LhV9mR2pT7wYc8nK1bD4fG6jEXTRA"],
        build: || {
            Box::new(TokenMatcher::new(r"(?-u:\b)(dckr_pat_[A-Za-z0-9_-]{27})(?:[^A-Za-z0-9_-]|$)", high))
        },
    },
    BuiltinDetector {
        id: "gitlab_token",
        description: "GitLab token (glpat- personal, routable glpat-….xx, glptt- trigger, gldt- deploy, GR1348941 runner)",
        region: "global",
        validator: "",
        joinable: false,
        gate: Gate::AnyLiteral(&["glpat-", "glptt-", "gldt-", "gr1348941"]),
        keywords: &["gitlab", "token", "ci_job_token"],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "GITLAB_TOKEN=glpat-Xq3LhV9mR2pT7wYc8nK1",
            "trigger glptt-4f2a9c1e7b3d5a8f0e6c2b9d1a7f3e5c8b0d2a4f",
            "deploy token gldt-a1B2c3D4e5F6g7H8i9J0",
            "runner GR1348941Zx9Lq2Wv7Rt4Yp1Nm8Kj",
        ],
        negative_examples: &["glpat-short", "glpat-aaaaaaaaaaaaaaaaaaaa", "glptt-4f2a9c1e7b3d5a8f0e6c"],
        build: || {
            Box::new(TokenMatcher::new(
                r"(?-u:\b)(glpat-[0-9A-Za-z_-]{27,300}\.[0-9a-z]{2}[0-9a-z]{7}|glpat-[0-9A-Za-z_-]{20}|glptt-[0-9a-f]{40}|gldt-[0-9A-Za-z_-]{20}|GR1348941[0-9A-Za-z_-]{20})(?:[^0-9A-Za-z_-]|$)",
                |t, s, e| (entropy(&t[s..e]) >= 3.0).then_some(Confidence::High),
            ))
        },
    },
    BuiltinDetector {
        id: "bitbucket_app_password",
        description: "Bitbucket app password (ATBB + 32)",
        region: "global",
        validator: "",
        joinable: false,
        gate: Gate::AnyLiteral(&["atbb"]),
        keywords: &["bitbucket", "app password", "atlassian"],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "bitbucket app password ATBBXq3LhV9mR2pT7wYc8nK1bD4fG6jH0sA5",
            "BITBUCKET_TOKEN=ATBB4f2a9c1e7b3d5a8f0e6c2b9d1a7f3e5c",
            "ATBBa1B2c3D4e5F6g7H8i9J0kLm1N2o3P4q5",
        ],
        negative_examples: &[
            "ATBB short",
            "ATBBaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "ATBBXq3LhV9mR2pT7wYc8nK1bD4fG6jH0sA5XYZ",
        ],
        build: || {
            Box::new(TokenMatcher::new(r"(?-u:\b)ATBB[a-zA-Z0-9]{32}(?-u:\b)", |t, s, e| {
                (entropy(&t[s..e]) >= 3.0).then_some(Confidence::High)
            }))
        },
    },
    BuiltinDetector {
        id: "atlassian_api_token",
        description: "Atlassian cloud API token (ATATT3…, about 190 characters)",
        region: "global",
        validator: "",
        joinable: false,
        gate: Gate::AnyLiteral(&["atatt3"]),
        keywords: &["atlassian", "jira", "confluence", "api token"],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "JIRA_API_TOKEN=ATATT3xFfGF0Xq3LhV9mR2pT7wYc8nK1bD4fG6jH0sA5zE3uI9oP2lM7kN4vB8xC1qW6eR0tY5uI3oP9aS2dF7gH4jK1lZ8xC6vB3nM0qW5eR7tY2uI9oP4aS6dF1gH8jK3lZ5xC0vB7nM2qW9eR4tY6uI1oP3aS8dF5gH0jK7lZ2xC4vB9n=4F2A9C1E",
            "ATATT3xFfGF0a1B2c3D4e5F6g7H8i9J0kLm1N2o3P4q5R6s7T8u9V0w1X2y3Z4=0A1B2C3D",
            "confluence token ATATT3xFfGF0Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0Pp9Oo8Nn7Mm6Ll5Kk4Jj3Ii2Hh1Gg0Ff9Ee8Dd7Cc6Bb5Aa4=9F8E7D6C",
        ],
        negative_examples: &["ATATT3short", "ATATT3xFfGF0", "ATATT3xFfGF0aaaaaaaaaaaaaaaaaaaaaaaa=ZZZZZZZZ"],
        build: || {
            Box::new(TokenMatcher::new(
                r"(?-u:\b)(ATATT3[A-Za-z0-9_=-]{20,250})(?:[^A-Za-z0-9_=-]|$)",
                |t, s, e| {
                    let v = &t[s..e];
                    let np_shape = v.len() >= 9
                        && v.as_bytes()[v.len() - 9] == b'='
                        && v[v.len() - 8..].bytes().all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b));
                    ((v.len() == 192 || np_shape) && entropy(v) >= 3.5).then_some(Confidence::High)
                },
            ))
        },
    },
    BuiltinDetector {
        id: "datadog_api_key",
        description: "Datadog API or application key (32 or 40 lower-case hex/alnum after a Datadog word)",
        region: "global",
        validator: "",
        joinable: false,
        gate: Gate::Keywords,
        keywords: &[
            "datadog",
            "dd_api_key",
            "dd_app_key",
            "dd-api-key",
            "dd-application-key",
            "datadog_api_key",
        ],
        keyword_window: 60,
        requires_keywords: true,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "DD_API_KEY=4f2a9c1e7b3d5a8f0e6c2b9d1a7f3e5c",
            "datadog app key: 0123456789abcdef0123456789abcdef01234567",
            "the datadog key is a1b2c3d4e5f60718293a4b5c6d7e8f90",
        ],
        negative_examples: &[
            "4f2a9c1e7b3d5a8f0e6c2b9d1a7f3e5c",
            "datadog dashboards are slow",
            "datadog 00000000000000000000000000000000",
        ],
        build: || {
            Box::new(TokenMatcher::new(r"(?-u:\b)[a-z0-9]{32}(?:[a-z0-9]{8})?(?-u:\b)", |t, s, e| {
                let v = &t[s..e];
                (classes(v) >= 2 && entropy(v) >= 3.0).then_some(Confidence::High)
            }))
        },
    },
    BuiltinDetector {
        id: "mailgun_key",
        description: "Mailgun private API key (key- + 32 hex) or signing key after a Mailgun word",
        region: "global",
        validator: "",
        joinable: false,
        gate: Gate::AnyLiteral(&["key-", "mailgun"]),
        keywords: &["mailgun", "mg", "api key", "signing key"],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "MAILGUN_API_KEY=key-4f2a9c1e7b3d5a8f0e6c2b9d1a7f3e5c",
            "mailgun signing key 4f2a9c1e7b3d5a8f0e6c2b9d1a7f3e5c-1a2b3c4d-5e6f7a8b",
            "use key-0123456789abcdef0123456789abcdef",
        ],
        negative_examples: &[
            "key-short",
            "key-00000000000000000000000000000000",
            "4f2a9c1e7b3d5a8f0e6c2b9d1a7f3e5c-1a2b3c4d-5e6f7a8b",
        ],
        build: || {
            Box::new(Many(vec![
                Box::new(TokenMatcher::new(r"(?-u:\b)key-[a-f0-9]{32}(?-u:\b)", |t, s, e| {
                    (entropy(&t[s + 4..e]) >= 3.0).then_some(Confidence::Medium)
                })),
                Box::new(TokenMatcher::new(
                    r"(?-u:\b)[a-h0-9]{32}-[a-h0-9]{8}-[a-h0-9]{8}(?-u:\b)",
                    |t, s, _| before(t, s, 60, &["mailgun"]).then_some(Confidence::High),
                )),
            ]))
        },
    },
    BuiltinDetector {
        id: "square_token",
        description: "Square access token (EAAA…, sq0atp-) or OAuth secret (sq0csp-)",
        region: "global",
        validator: "",
        joinable: false,
        gate: Gate::AnyLiteral(&["eaaa", "sq0atp-", "sq0csp-"]),
        keywords: &["square", "access token", "oauth"],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "SQUARE_ACCESS_TOKEN=EAAAJmpflvJfupxqZKm4bV3AyAVHnyrvWdFrK9xiRGHOY32nfr5pyzPCB9t2039b",
            "sq0atp-a1B2c3D4e5F6g7H8i9J0kL",
            "sq0csp-icBTW5ZE9LFaez7770H2DCpYgojjHRg80USP2W5DfJX",
        ],
        negative_examples: &["sq0atp-short", "EAAA", "sq0csp-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"],
        build: || {
            Box::new(TokenMatcher::new(
                r"(?-u:\b)(EAAA[A-Za-z0-9_-]{22,60}|sq0atp-[A-Za-z0-9_-]{22,60}|sq0csp-[A-Za-z0-9_-]{43})(?:[^A-Za-z0-9_-]|$)",
                |t, s, e| (entropy(&t[s..e]) >= 3.0).then_some(Confidence::High),
            ))
        },
    },
    BuiltinDetector {
        id: "paypal_braintree_token",
        description: "PayPal/Braintree access token (access_token$production$…) or Braintree private key next to its public key",
        region: "global",
        validator: "",
        joinable: false,
        gate: Gate::AnyLiteral(&["access_token$", "braintree"]),
        keywords: &["braintree", "paypal", "private key", "merchant"],
        keyword_window: 80,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "BT_TOKEN=access_token$production$x7kq9mwv2lp4rt8y$4f2a9c1e7b3d5a8f0e6c2b9d1a7f3e5c",
            "access_token$sandbox$a1b2c3d4e5f60718$0123456789abcdef0123456789abcdef",
            "braintree public key h7k2m9p4q8r1t5v3 private key 4f2a9c1e7b3d5a8f0e6c2b9d1a7f3e5c",
        ],
        negative_examples: &[
            "access_token$production$short",
            "braintree private key 4f2a9c1e7b3d5a8f0e6c2b9d1a7f3e5c",
            "we use braintree",
        ],
        build: || {
            Box::new(Many(vec![
                Box::new(TokenMatcher::new(
                    r"access_token\$(?:production|sandbox)\$[0-9a-z]{16}\$[0-9a-f]{32}",
                    high,
                )),
                Box::new(TokenMatcher::new(r"(?-u:\b)[0-9a-f]{32}(?-u:\b)", |t, s, e| {
                    let lo = super::digits::floor_boundary(t, s.saturating_sub(150));
                    let hi = super::digits::ceil_boundary(t, (e + 150).min(t.len()));
                    let around = &t[lo..hi];
                    let has_public = around.split(|c: char| !c.is_ascii_alphanumeric()).any(|w| {
                        w.len() == 16
                            && w.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                            && classes(w) >= 2
                    });
                    (has_public && near(t, s, e, 150, &["braintree"]) && entropy(&t[s..e]) >= 3.0)
                        .then_some(Confidence::High)
                })),
            ]))
        },
    },
    BuiltinDetector {
        id: "plaid_token",
        description: "Plaid access token (access-sandbox|development|production-<uuid>) or secret after a Plaid word",
        region: "global",
        validator: "",
        joinable: false,
        gate: Gate::AnyLiteral(&["access-sandbox-", "access-development-", "access-production-", "plaid"]),
        keywords: &["plaid", "access token", "secret", "client_id"],
        keyword_window: 60,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "PLAID_ACCESS_TOKEN=access-production-4f2a9c1e-7b3d-5a8f-0e6c-2b9d1a7f3e5c",
            "access-sandbox-01234567-89ab-cdef-0123-456789abcdef",
            "PLAID_SECRET=a1b2c3d4e5f60718293a4b5c6d7e8f",
        ],
        negative_examples: &[
            "access-production-1234",
            "plaid shirt on friday",
            "a1b2c3d4e5f60718293a4b5c6d7e8f",
        ],
        build: || {
            Box::new(Many(vec![
                Box::new(TokenMatcher::new(
                    r"(?-u:\b)access-(?:sandbox|development|production)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?-u:\b)",
                    high,
                )),
                Box::new(TokenMatcher::new(r"(?-u:\b)[a-z0-9]{30}(?-u:\b)", |t, s, e| {
                    let v = &t[s..e];
                    (before(t, s, 40, &["plaid"]) && classes(v) >= 2 && entropy(v) >= 3.5)
                        .then_some(Confidence::High)
                })),
            ]))
        },
    },
    BuiltinDetector {
        id: "discord_bot_token",
        description: "Discord bot token (base64 user id . 6 . 27+), or 64-hex secret after a Discord word",
        region: "global",
        validator: "base64_user_id",
        joinable: false,
        gate: Gate::Keywords,
        keywords: &["discord", "bot", "token", "discord_token"],
        keyword_window: 60,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "discord bot token: MTA4OTY1NDMyMTk4NzY1NDMyMQ.GxY7Zq.Xq3LhV9mR2pT7wYc8nK1bD4fG6jH0sA5zE",
            "DISCORD_TOKEN=ODk3NjU0MzIxMDk4NzY1NDMy.YbCdEf.a1B2c3D4e5F6g7H8i9J0kLm1N2o",
            "discord client secret 4f2a9c1e7b3d5a8f0e6c2b9d1a7f3e5c4f2a9c1e7b3d5a8f0e6c2b9d1a7f3e5c",
        ],
        negative_examples: &[
            "token: aGVsbG8gd29ybGQgaGVsbG8gd29y.GxY7Zq.Xq3LhV9mR2pT7wYc8nK1bD4fG6jH0sA5zE",
            "discord server is down",
            "4f2a9c1e7b3d5a8f0e6c2b9d1a7f3e5c4f2a9c1e7b3d5a8f0e6c2b9d1a7f3e5c",
        ],
        build: || {
            Box::new(Many(vec![
                Box::new(TokenMatcher::new(
                    r"(?-u:\b)([A-Za-z0-9_-]{23,28}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38})(?:[^A-Za-z0-9_-]|$)",
                    check_discord,
                )),
                Box::new(TokenMatcher::new(r"(?-u:\b)[a-f0-9]{64}(?-u:\b)", |t, s, _| {
                    before(t, s, 60, &["discord"]).then_some(Confidence::High)
                })),
            ]))
        },
    },
    BuiltinDetector {
        id: "telegram_bot_token",
        description: "Telegram bot token (numeric bot id : AA + 32–33)",
        region: "global",
        validator: "",
        joinable: false,
        gate: Gate::AnyLiteral(&[":aa"]),
        keywords: &["telegram", "bot", "botfather", "token"],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "TELEGRAM_BOT_TOKEN=123456789:AAHk3LhV9mR2pT7wYc8nK1bD4fG6jH0sA5z",
            "bot 5012345678:AAEx7Kq9mWv2Lp4Rt8Yn1Zb3Xc6Vd0Fg5Hj",
            "https://api.telegram.org/bot987654321:AAF-q9mWv2Lp4Rt8Yn1Zb3Xc6Vd0Fg5Hj7/getMe",
        ],
        negative_examples: &[
            "123456789:AAshort",
            "12:30:AA meeting",
            "123456789:ABHk3LhV9mR2pT7wYc8nK1bD4fG6jH0sA5z",
        ],
        build: || {
            Box::new(TokenMatcher::new(
                r"(?:^|[^0-9])([0-9]{5,16}:AA[A-Za-z0-9_-]{32,33})(?:[^A-Za-z0-9_-]|$)",
                |t, s, e| (entropy(&t[s..e]) >= 3.0).then_some(Confidence::High),
            ))
        },
    },
    BuiltinDetector {
        id: "meta_access_token",
        description: "Meta / WhatsApp Cloud API access token (EAA… 80+), or app id|app secret",
        region: "global",
        validator: "",
        joinable: false,
        gate: Gate::AnyLiteral(&["eaa", "|", "%7c", "app secret", "app_secret"]),
        keywords: &["whatsapp", "meta", "facebook", "graph api", "access token", "system user", "cloud api"],
        keyword_window: 60,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "WHATSAPP_TOKEN=EAAGm0PX4ZCpsBAKq3LhV9mR2pT7wYc8nK1bD4fG6jH0sA5zE3uI9oP2lM7kN4vB8xC1qW6eR0tY5uI3oP9aS2dF7gH4jK1lZ8xC6vB3nM0qW5e",
            "graph api token EAAJZCx7Kq9mWv2Lp4Rt8Yn1Zb3Xc6Vd0Fg5Hj7Kl9Qw2Er4Ty6Ui8Op0As1Df3Gh5Jk7Lz9Xc1Vb3Nm5Qw7Er9Ty1Ui3Op5As7Df9Gh1Jk3Lz5",
            "fb app token 1234567890123456|Xq3LhV9mR2pT7wYc8nK1bD4fG6j",
        ],
        negative_examples: &[
            "EAAG short",
            "EAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "| col | col |",
        ],
        build: || {
            Box::new(Many(vec![
                Box::new(TokenMatcher::new(r"(?-u:\b)EAA[A-Za-z0-9]{80,}(?-u:\b)", |t, s, e| {
                    (entropy(&t[s..e]) >= 4.0).then_some(Confidence::High)
                })),
                Box::new(TokenMatcher::new(
                    r"(?-u:\b)([0-9]{15,16}(?:\||%7[Cc])[0-9A-Za-z_-]{27,40})(?:[^A-Za-z0-9_-]|$)",
                    |t, s, e| (entropy(&t[s..e]) >= 3.0).then_some(Confidence::High),
                )),
                Box::new(TokenMatcher::new(r"(?-u:\b)[a-f0-9]{32}(?-u:\b)", |t, s, _| {
                    before(t, s, 40, &["facebook", "app secret", "app_secret", "fb_secret", "meta secret"])
                        .then_some(Confidence::High)
                })),
            ]))
        },
    },
    BuiltinDetector {
        id: "chat_webhook_url",
        description: "Incoming-webhook URL of Slack, Microsoft Teams, Discord or Google Chat (anyone holding it can post)",
        region: "global",
        validator: "",
        joinable: false,
        gate: Gate::AnyLiteral(&[
            "hooks.slack.com",
            "webhook.office.com",
            "outlook.office.com/webhook",
            "/api/webhooks/",
            "chat.googleapis.com",
        ]),
        keywords: &["webhook", "slack", "teams", "discord", "incoming"],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "https://hooks.slack.com/services/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",
            "https://acme.webhook.office.com/webhookb2/4f2a9c1e-7b3d-5a8f-0e6c-2b9d1a7f3e5c@0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d/IncomingWebhook/0123456789abcdef0123456789abcdef/9d1a7f3e-5c8b-0d2a-4f6e-8c0a2b4d6f8e",
            "https://discord.com/api/webhooks/1089654321987654321/Xq3LhV9mR2pT7wYc8nK1bD4fG6jH0sA5zE3uI9oP2lM7kN4vB8xC1qW6eR0tY5uI3oP9aS2dF7gH",
        ],
        negative_examples: &[
            "https://hooks.slack.com/services/",
            "see api.slack.com/messaging/webhooks",
            "https://discord.com/api/webhooks/123",
        ],
        build: || {
            Box::new(TokenMatcher::new(
                r"(?i)(?:https?://)?hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/_]{30,100}|https://[a-z0-9-]+\.webhook\.office\.com/webhookb2/[a-f0-9-]{36}@[a-f0-9-]{36}/IncomingWebhook/[a-z0-9]{32}/[a-f0-9-]{36}(?:/[A-Za-z0-9_-]{20,})?|https://outlook\.office\.com/webhook/[a-f0-9-]{36}@[a-f0-9-]{36}/IncomingWebhook/[a-f0-9]{32}/[a-f0-9-]{36}|https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/[0-9]{17,20}/[A-Za-z0-9_-]{60,70}|https://chat\.googleapis\.com/v1/spaces/[A-Za-z0-9_-]+/messages\?key=[A-Za-z0-9_-]+&token=[A-Za-z0-9_%=-]+",
                high,
            ))
        },
    },
];

/// True when an `AC` + 32 hex account SID appears before `s` (within 120 bytes).
fn before_sid(text: &str, s: usize) -> bool {
    let lo = super::digits::floor_boundary(text, s.saturating_sub(120));
    let hay = &text.as_bytes()[lo..s];
    hay.windows(34).any(|w| {
        w[0] == b'A'
            && w[1] == b'C'
            && w[2..].iter().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    })
}

/// A Discord token's first segment is the bot's numeric user id in base64.
fn check_discord(text: &str, s: usize, e: usize) -> Option<Confidence> {
    let v = &text[s..e];
    let first = v.split('.').next()?;
    let decoded = super::token::b64url_decode(first)?;
    let id_ok = (17..=20).contains(&decoded.len()) && decoded.iter().all(u8::is_ascii_digit);
    id_ok.then_some(Confidence::High)
}

/// Base62 CRC32 checksum of GitHub-style tokens: the last 6 characters encode
/// CRC32 of the first 30 (alphabet 0-9A-Za-z, left-padded with `0`).
pub fn crc32_base62_ok(body: &str) -> bool {
    const B62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    if body.len() != 36 {
        return false;
    }
    let (payload, check) = body.split_at(30);
    let mut n = crc32fast::hash(payload.as_bytes());
    let mut enc = [b'0'; 6];
    for slot in enc.iter_mut().rev() {
        *slot = B62[(n % 62) as usize];
        n /= 62;
    }
    enc == check.as_bytes()
}
