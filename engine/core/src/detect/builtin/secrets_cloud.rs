//! Built-in detectors: cloud, AI and infrastructure credentials. Patterns are ported
//! from the gitleaks / Nosey Parker rules quoted in docs/notes/detector-breadth.md
//! (Appendix A) to linear-time Rust regexes; every one starts at a literal prefix or
//! keyword so that the shared prefilter skips it on clean text.

use super::token::{Many, TokenMatcher, before, classes, entropy, high};
use crate::detect::{BuiltinDetector, Confidence, Gate};

/// The cloud and infrastructure secret detectors.
pub const DETECTORS: &[BuiltinDetector] = &[
    BuiltinDetector {
        id: "openai_api_key",
        description: "OpenAI API key (sk-proj-/sk-svcacct-/sk-admin- with the T3BlbkFJ marker, or legacy sk- + 48)",
        region: "global",
        validator: "",
        joinable: false,
        gate: Gate::AnyLiteral(&["sk-"]),
        keywords: &["openai", "api key", "openai_api_key", "chatgpt", "gpt"],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "OPENAI_API_KEY=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",
            "key: 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",
            "sk-ZYW2mZp0zVZomHFwUbbYrEqmSM9wCZ7Uw9xfogoEmvnEN5N1",
        ],
        negative_examples: &[
            "sk-short",
            "risk-free sk-",
            "sk-abcdefabcdefabcdefabcdefabcdefabcdefabcdefabcd",
        ],
        build: || {
            Box::new(TokenMatcher::new(
                r"(?-u:\b)(sk-(?:proj|svcacct|admin)-(?:[A-Za-z0-9_-]{74}|[A-Za-z0-9_-]{58})T3BlbkFJ(?:[A-Za-z0-9_-]{74}|[A-Za-z0-9_-]{58})|sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}|sk-[A-Za-z0-9]{48})(?:[^A-Za-z0-9_-]|$)",
                |t, s, e| {
                    (entropy(&t[s..e]) >= 3.0 && classes(&t[s + 3..e]) >= 2).then_some(Confidence::High)
                },
            ))
        },
    },
    BuiltinDetector {
        id: "anthropic_api_key",
        description: "Anthropic API or admin key (sk-ant-api03- / sk-ant-admin01- … AA)",
        region: "global",
        validator: "",
        joinable: false,
        gate: Gate::AnyLiteral(&["sk-ant-"]),
        keywords: &["anthropic", "claude", "api key", "anthropic_api_key"],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "ANTHROPIC_API_KEY=sk-ant-api03-a9SkpXz9w3QlY7Zkuvqdt7s8Stqcbnr3yBdGBLEPH1qhT61qtc4xatws8phP9nhFyJfm5di4PzJ59FHz5r1pY4OjE2jBMAA",
            "sk-ant-admin01-ptUsGr7CmY_uCu3ZR1zTOlUcR64cXQLioDnkHIfxIq2HZt-PlJhx2jIclHkCiHp6bR1IqfEouHgxzNNAL5wIScGebcy8FAA",
            "key sk-ant-api03-_-5n3-YNBDRzrZSgqbjG3uhkWKFLf6xuI5aHUQPFeNBTxaQWk8JzFalHlsZfYcMMDktXP-tKsf2rcDkdfrUnW5gcF_Ha6AA ok",
        ],
        negative_examples: &[
            "sk-ant-api03-short",
            "sk-ant-api03-Zx9Lq2Wv7Rt4Yp1Nm8Kj3Hg6Fd0Sa5Qw2Er7Ty4Ui9Op1As6Df3Gh8Jk0Lz5Xc2Vb7Nm4Qw9Er1Ty6Ui3Op8As0Df5Gh2Jk7Lz4XcAB",
            "the sk-ant- prefix",
        ],
        build: || {
            Box::new(TokenMatcher::new(
                r"(?-u:\b)(sk-ant-(?:api|admin)[0-9]{2}-[A-Za-z0-9_-]{93}AA)(?:[^A-Za-z0-9_-]|$)",
                high,
            ))
        },
    },
    BuiltinDetector {
        id: "azure_entra_client_secret",
        description: "Microsoft Entra ID (Azure AD) client secret (3 chars + digit + Q~ + 31–34 chars)",
        region: "global",
        validator: "",
        joinable: false,
        gate: Gate::AnyLiteral(&["q~"]),
        keywords: &["client secret", "client_secret", "azure", "entra", "aad", "app registration"],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "client_secret=abc8Q~xY7zW6vU5tS4rQ3pO2nM1lK0jI9hG8fE",
            "AZURE_CLIENT_SECRET: \"Zq18Q~m1N2b3V4c5X6z7L8k9J0h1G2f3D4s5A6p7\"",
            "secret (x.Y3Q~aB1cD2eF3gH4iJ5kL6mN7oP8qR9sT0uV1w)",
        ],
        negative_examples: &["abc8Q~short", "Q~ is a tilde", "aaa8Q~aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"],
        build: || {
            Box::new(TokenMatcher::new(
                r#"(?:^|[\\'"`\s>=:(,)])([a-zA-Z0-9_~.]{3}[0-9]Q~[a-zA-Z0-9_~.-]{31,34})(?:$|[\\'"`\s<),])"#,
                |t, s, e| (entropy(&t[s..e]) >= 3.0).then_some(Confidence::High),
            ))
        },
    },
    BuiltinDetector {
        id: "azure_storage_credential",
        description: "Azure storage / Service Bus connection string with its account key, or App Configuration secret",
        region: "global",
        validator: "",
        joinable: false,
        gate: Gate::AnyLiteral(&["accountkey", "sharedaccesskey", "sharedsecretvalue", "azconfig.io"]),
        keywords: &["azure", "connection string", "storage account", "defaultendpointsprotocol"],
        keyword_window: 80,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "DefaultEndpointsProtocol=https;AccountName=acmeprod;AccountKey=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1ub3A=;EndpointSuffix=core.windows.net",
            "Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=q1W2e3R4t5Y6u7I8o9P0aSdFgHjKlZxCvBnM1234567=",
            "https://acme-config.azconfig.io;Id=Ab1c-l0-s0:Q2w3E4r5T6y7U8i9O0pA;Secret=Zx1Cv2Bn3Mq4Wk5El6Rj7Th8Yg9Uf0Id1Os2Pa3Sd4F=",
        ],
        negative_examples: &[
            "AccountName=acmeprod;AccountKey=",
            "AccountKey=<your key>",
            "set the sharedaccesskey in the portal",
        ],
        build: || {
            Box::new(Many(vec![
                Box::new(TokenMatcher::new(
                    r#"(?i)(?:AccountName|SharedAccessKeyName|SharedSecretIssuer)\s*=\s*[^$\{;<\[.\s*"'\#][^.;\n"'\#]{2,80}\s*;\s*.{0,10}?\s*(?:AccountKey|SharedAccessKey|SharedSecretValue)\s*=\s*([a-zA-Z0-9/+]{20,100}={0,3})(?:[^a-zA-Z0-9/+=]|$)"#,
                    high,
                )),
                Box::new(TokenMatcher::new(
                    r"https://[a-zA-Z0-9-]+\.azconfig\.io;Id=[^;\s]{4}-[^;\s]{2}-[^;\s]{2}:[a-zA-Z0-9+/]{18,22};Secret=([a-zA-Z0-9+/]{36,50}=)",
                    high,
                )),
            ]))
        },
    },
    BuiltinDetector {
        id: "azure_devops_pat",
        description: "Azure DevOps personal access token (84 characters with AZDO, or 52 after a PAT keyword)",
        region: "global",
        validator: "",
        joinable: false,
        gate: Gate::AnyLiteral(&[
            "azdo",
            "pat",
            "$token",
            "devops",
            "personal access token",
            "personal_access_token",
        ]),
        keywords: &["azure devops", "devops", "ado", "pat", "personal access token"],
        keyword_window: 60,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "ADO_PAT = \"q3w5e7r9t1y3u5i7o9p1a3s5d7f9g1h3j5k7l9z1x3c5v7b9n1m3\"",
            "token ZeV7G5IfQHeVVEqZe2qpUWnoVPDF2yeE6RsXcNOPmeMjvqPVStNKiaEdFrRgSnRFsTHsDDDXh5JmAZDOtf7E",
            "azure devops pat: q3w5e7r9t1y3u5i7o9p1a3s5d7f9g1h3j5k7l9z1x3c5v7b9n1m3",
        ],
        negative_examples: &[
            "ADO_PAT = \"short\"",
            "pat the dog",
            "q3w5e7r9t1y3u5i7o9p1a3s5d7f9g1h3j5k7l9z1x3c5v7b9n1m3",
        ],
        build: || {
            Box::new(Many(vec![
                Box::new(TokenMatcher::new(r"(?-u:\b)([a-zA-Z0-9]{76}AZDO[a-zA-Z0-9]{4})(?-u:\b)", high)),
                Box::new(TokenMatcher::new(
                    r#"(?i)(?:ADO_PAT|pat_token|personal_?access_?token|\$token|azure devops pat|devops pat|devops token|ado pat)\s*(?:=|:|is)?\s*["']?([a-z0-9]{52})(?-u:\b)"#,
                    |t, s, e| {
                        (classes(&t[s..e]) >= 2 && entropy(&t[s..e]) >= 3.5).then_some(Confidence::High)
                    },
                )),
            ]))
        },
    },
    BuiltinDetector {
        id: "gcp_service_account_key",
        description: "Google Cloud service-account key file (JSON with type service_account and a private key)",
        region: "global",
        validator: "json_fields",
        joinable: false,
        gate: Gate::AnyLiteral(&["service_account"]),
        keywords: &["service account", "gcp", "google cloud", "credentials.json", "key file"],
        keyword_window: 80,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            r#"{"type": "service_account", "project_id": "acme-prod", "private_key_id": "4f2a9c1e7b3d5a8f0e6c2b9d1a7f3e5c8b0d2a4f", "private_key": "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n", "client_email": "deploy@acme-prod.iam.gserviceaccount.com", "client_id": "1234567890", "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs"}"#,
            "\"type\": \"service_account\",\n\"private_key_id\": \"0123456789abcdef0123456789abcdef01234567\",",
            r#"creds: {"type":"service_account","private_key_id":"aa11bb22cc33dd44ee55ff6677889900aabbccdd","client_email":"x@p.iam.gserviceaccount.com"}"#,
        ],
        negative_examples: &[
            r#"{"type": "service_account", "project_id": "acme-prod"}"#,
            "create a service_account for the job",
            r#"{"type": "authorized_user", "private_key_id": "0123456789abcdef0123456789abcdef01234567"}"#,
        ],
        build: || {
            Box::new(TokenMatcher::new(r#""private_key_id"\s*:\s*"([0-9a-f]{40})""#, |t, s, _| {
                // The key id counts only inside a service-account key (the type field
                // within the same object, a few hundred bytes around).
                let lo = super::digits::floor_boundary(t, s.saturating_sub(600));
                let hi = super::digits::ceil_boundary(t, (s + 600).min(t.len()));
                let around = &t[lo..hi];
                let typed = around.contains("\"service_account\"");
                let keyed = around.contains("PRIVATE KEY") || around.contains("gserviceaccount.com");
                (typed && (keyed || before(t, s, 200, &["\"type\""]))).then_some(Confidence::High)
            }))
        },
    },
    BuiltinDetector {
        id: "google_oauth_secret_token",
        description: "Google OAuth client secret (GOCSPX-) or access token (ya29.)",
        region: "global",
        validator: "",
        joinable: false,
        gate: Gate::AnyLiteral(&["gocspx-", "ya29."]),
        keywords: &["oauth", "client secret", "google", "access token", "bearer"],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "client_secret: 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",
            "Authorization: Bearer ya29.a0AfB_byC1d2E3f4G5h6I7j8K9l0M1n2O3p4Q5r6S7t8U9v0W",
            "token=ya29.a0Aekm1K2L3M4N5O6P7Q8R9S0T1U2",
        ],
        negative_examples: &["GOCSPX-short", "ya29.abc", "the GOCSPX- prefix"],
        build: || {
            Box::new(TokenMatcher::new(
                r"(?-u:\b)(GOCSPX-[a-zA-Z0-9_-]{28}|ya29\.[0-9A-Za-z_-]{20,1024})(?:[^0-9A-Za-z_-]|$)",
                high,
            ))
        },
    },
    BuiltinDetector {
        id: "databricks_token",
        description: "Databricks personal access token (dapi + 32 hex)",
        region: "global",
        validator: "",
        joinable: false,
        gate: Gate::AnyLiteral(&["dapi"]),
        keywords: &["databricks", "token", "pat"],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "DATABRICKS_TOKEN=dapi0123456789abcdef0123456789abcdef",
            "use dapi4f2a9c1e7b3d5a8f0e6c2b9d1a7f3e5c-2 for the job",
            "token: dapia1b2c3d4e5f60718293a4b5c6d7e8f90",
        ],
        negative_examples: &["dapi0123", "dapi0123456789abcdef0123456789abcdeg", "rapid dapi"],
        build: || {
            Box::new(TokenMatcher::new(
                r"(?-u:\b)(dapi[a-f0-9]{32}(?:-[0-9]+)?)(?:[^A-Za-z0-9_-]|$)",
                |t, s, e| (entropy(&t[s..e]) >= 3.0).then_some(Confidence::High),
            ))
        },
    },
    BuiltinDetector {
        id: "digitalocean_token",
        description: "DigitalOcean personal, OAuth or refresh token (dop_v1_/doo_v1_/dor_v1_ + 64 hex)",
        region: "global",
        validator: "",
        joinable: false,
        gate: Gate::AnyLiteral(&["dop_v1_", "doo_v1_", "dor_v1_"]),
        keywords: &["digitalocean", "token", "doctl"],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "DO_TOKEN=dop_v1_4f2a9c1e7b3d5a8f0e6c2b9d1a7f3e5c8b0d2a4f6e8c0a2b4d6f8e0c2a4b6d8f",
            "doo_v1_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "refresh dor_v1_a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90",
        ],
        negative_examples: &[
            "dop_v1_short",
            "dop_v1_4f2a9c1e7b3d5a8f0e6c2b9d1a7f3e5c",
            "dop_v2_4f2a9c1e7b3d5a8f0e6c2b9d1a7f3e5c8b0d2a4f6e8c0a2b4d6f8e0c2a4b6d8f",
        ],
        build: || Box::new(TokenMatcher::new(r"(?-u:\b)do[opr]_v1_[a-f0-9]{64}(?-u:\b)", high)),
    },
    BuiltinDetector {
        id: "vault_token",
        description: "HashiCorp Vault token (hvs./hvb./hvr., legacy s. after a Vault word) or Terraform Cloud token",
        region: "global",
        validator: "",
        joinable: false,
        gate: Gate::AnyLiteral(&["hvs.", "hvb.", "hvr.", "atlasv1", "vault"]),
        keywords: &["vault", "vault_token", "terraform", "hashicorp"],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "VAULT_TOKEN=hvs.CAESIJx7Kq9mWv2Lp4Rt8Yn1Zb3Xc6Vd0Fg5Hj7Kl9Qw2Er4Ty6Ui8Op0As",
            "export VAULT_TOKEN=s.Xq3LhV9mR2pT7wYc8nK1bD4f",
            "TFE_TOKEN=Xq3LhV9mR2pT7w.atlasv1.c8nK1bD4fG6jH0sA5zE3uI9oP2lM7kN4vB8xC1qW6eR0tY5uI3oP9aS2dF7gH4jK1l",
        ],
        negative_examples: &["hvs.short", "s.Xq3LhV9mR2pT7wYc8nK1bD4f", "the vault opens at 9"],
        build: || {
            Box::new(Many(vec![
                Box::new(TokenMatcher::new(
                    r"(?-u:\b)(hvs\.[A-Za-z0-9_-]{24,130}|hvb\.[A-Za-z0-9_-]{24,500}|hvr\.[A-Za-z0-9_-]{24,130}|[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70})(?:[^A-Za-z0-9_-]|$)",
                    |t, s, e| (entropy(&t[s..e]) >= 3.5).then_some(Confidence::High),
                )),
                Box::new(TokenMatcher::new(
                    r"(?-u:\b)([sbr]\.[A-Za-z0-9]{24})(?:[^A-Za-z0-9_.-]|$)",
                    |t, s, e| {
                        (before(t, s, 40, &["vault"]) && classes(&t[s + 2..e]) >= 2)
                            .then_some(Confidence::Medium)
                    },
                )),
            ]))
        },
    },
    BuiltinDetector {
        id: "heroku_api_key",
        description: "Heroku API key (HRKU-AA + 58, or a UUID after a Heroku word)",
        region: "global",
        validator: "",
        joinable: false,
        gate: Gate::AnyLiteral(&["hrku-aa", "heroku"]),
        keywords: &["heroku", "api key", "heroku_api_key"],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "HEROKU_API_KEY=HRKU-AAcL6j5IXAAjlsHUqJoUD-_Ydua_5ZMs1SWOpQaPRYpzbLGViYXjU2JgJngK",
            "heroku api key: 01234567-89ab-cdef-0123-456789abcdef",
            "heroku_key = \"4f2a9c1e-7b3d-5a8f-0e6c-2b9d1a7f3e5c\"",
        ],
        negative_examples: &[
            "HRKU-AAshort",
            "request id 01234567-89ab-cdef-0123-456789abcdef",
            "deploy to heroku tonight",
        ],
        build: || {
            Box::new(Many(vec![
                Box::new(TokenMatcher::new(r"(?-u:\b)(HRKU-AA[0-9a-zA-Z_-]{58})(?:[^A-Za-z0-9_-]|$)", high)),
                Box::new(TokenMatcher::new(
                    r"(?-u:\b)[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?-u:\b)",
                    |t, s, _| before(t, s, 40, &["heroku"]).then_some(Confidence::Medium),
                )),
            ]))
        },
    },
    BuiltinDetector {
        id: "llm_api_keys",
        description: "AI provider keys: Hugging Face (hf_, api_org_), Perplexity (pplx-), Groq (gsk_), xAI (xai-), Replicate (r8_), Cohere",
        region: "global",
        validator: "",
        joinable: false,
        gate: Gate::AnyLiteral(&["hf_", "api_org_", "pplx-", "gsk_", "xai-", "r8_", "cohere", "co_api_key"]),
        keywords: &[
            "hugging face",
            "huggingface",
            "perplexity",
            "groq",
            "cohere",
            "replicate",
            "xai",
            "api key",
            "token",
        ],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "HF_TOKEN=hf_AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh",
            "groq key gsk_4f2a9c1e7b3d5a8f0e6c2b9d1a7f3e5c8b0d2a4f6e8c0a2b4d",
            "COHERE_API_KEY=Zx9Lq2Wv7Rt4Yp1Nm8Kj3Hg6Fd0Sa5Qw2Er7Ty4U",
            "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",
        ],
        negative_examples: &[
            "hf_short",
            "the gsk_ prefix",
            "cohere is a company",
            "hf_abcdefghijklmnopqrstuvwxyzabcdefg1",
        ],
        build: || {
            Box::new(Many(vec![
                Box::new(TokenMatcher::new(
                    r"(?-u:\b)(hf_[A-Za-z]{34}|api_org_[A-Za-z]{34}|pplx-[A-Za-z0-9]{48}|gsk_[A-Za-z0-9]{50,54}|xai-[A-Za-z0-9]{80}|r8_[A-Za-z0-9]{37})(?-u:\b)",
                    |t, s, e| {
                        (entropy(&t[s..e]) >= 3.0 && classes(&t[s..e]) >= 2).then_some(Confidence::High)
                    },
                )),
                Box::new(TokenMatcher::new(
                    r#"(?i)(?:cohere|co_api_key)[\w.-]{0,20}\s*["']?\s*(?:=|:|=>)\s*["']?([A-Za-z0-9]{40})(?-u:\b)"#,
                    |t, s, e| {
                        (entropy(&t[s..e]) >= 4.0 && classes(&t[s..e]) >= 3).then_some(Confidence::High)
                    },
                )),
            ]))
        },
    },
    BuiltinDetector {
        id: "db_connection_uri",
        description: "Database connection string with a password (postgres, mysql, mongodb, redis, amqp URIs; ODBC)",
        region: "global",
        validator: "",
        joinable: false,
        gate: Gate::AnyLiteral(&["://", "pwd", "password"]),
        keywords: &["database", "connection string", "db", "dsn", "database_url"],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "DATABASE_URL=postgres://app:S3cr3t!pw@db.internal:5432/prod",
            "mongodb+srv://admin:hunter2x@cluster0.ab1cd.mongodb.net/test",
            "Server=sql1;Database=crm;User Id=sa;Password=Pa55w0rd!;",
        ],
        negative_examples: &[
            "postgres://localhost:5432/prod",
            "mongodb://user:<password>@host",
            "https://user@example.com/path",
        ],
        build: || {
            Box::new(Many(vec![
                Box::new(TokenMatcher::new(
                    r"(?i)(?-u:\b)(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|redis|rediss|amqps?|mssql|sqlserver|oracle)://[A-Za-z0-9%._~!$&'()*+,;=-]{1,128}:([A-Za-z0-9%._~!$&'()*+,;=-]{3,128})@[A-Za-z0-9_.-]{3,255}(?::[0-9]{1,5})?",
                    check_password,
                )),
                Box::new(TokenMatcher::new(
                    r"(?i)(?-u:\b)(?:User|User Id|UserId|Uid)\s*=\s*[^\s;]{1,100}\s*;[ \t]*[^\n]{0,10}?[ \t]*(?:Password|Pwd)\s*=\s*([^\t ;]{3,100})",
                    check_password,
                )),
            ]))
        },
    },
    BuiltinDetector {
        id: "http_auth_header",
        description: "HTTP Authorization header with Basic credentials or a Bearer token, or an API-key header",
        region: "global",
        validator: "",
        joinable: false,
        gate: Gate::AnyLiteral(&["authorization", "api-key", "apikey", "api_key"]),
        keywords: &["authorization", "header", "curl", "bearer", "basic"],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "curl -H \"Authorization: Basic YWRtaW46czNjcjN0UGFzcw==\" https://api.example.com",
            "Authorization: Bearer 8f2Kq9LmV4wX7pR1tY3nB6zC0dF5gH",
            "-H 'X-API-Key: 4f2a9c1e7b3d5a8f0e6c2b9d1a7f3e5c'",
        ],
        negative_examples: &[
            "Authorization: Bearer <token>",
            "Authorization: Basic $CREDS",
            "the authorization header is missing",
        ],
        build: || {
            Box::new(Many(vec![
                Box::new(TokenMatcher::new(
                    r"(?i)(?-u:\b)authorization\s*[:=]\s*(?:basic\s+([A-Za-z0-9+/]{6,}={0,2})|bearer\s+([A-Za-z0-9._~+/-]{8,}=*))",
                    check_auth,
                )),
                Box::new(TokenMatcher::new(
                    r"(?i)(?-u:\b)(?:x-)?api[-_]?key\s*:\s*([A-Za-z0-9_=~@.+/-]{16,})",
                    |t, s, e| {
                        (classes(&t[s..e]) >= 2 && entropy(&t[s..e]) >= 3.0).then_some(Confidence::High)
                    },
                )),
            ]))
        },
    },
    BuiltinDetector {
        id: "password_hash",
        description: "Password hash in crypt format (md5crypt, bcrypt, sha256crypt, sha512crypt, Cisco $8$/$9$, argon2)",
        region: "global",
        validator: "",
        joinable: false,
        gate: Gate::AnyLiteral(&[
            "$1$", "$2a$", "$2b$", "$2x$", "$2y$", "$5$", "$6$", "$8$", "$9$", "$argon2",
        ]),
        keywords: &["hash", "shadow", "bcrypt", "password", "passwd"],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "root:$6$rounds=5000$saltsalt$K8m2Xn9Rt4Yv1Lk8Jh3Gf6Ds0Az5Sx2Dc7Fv4Gb9Hn1Jm6Kl3Qw8Er0Ty5Ui2Op7As4Df9Gh1Jk6Lz3Xc8Vb0Nm5Qw2Er7Ty4Ui9Op1:19000:0:99999:7:::",
            "$2b$12$KIXQJz6Fh3Y8m1pN4rT7uO9wVx2yZa5bC8dE1fG4hI7jK0lM3nO6q",
            "hash $1$abcdefgh$Q2w3E4r5T6y7U8i9O0pAsD",
        ],
        negative_examples: &["costs $1$ each", "$2b$12$short", "price $5$ and $6$"],
        build: || {
            Box::new(TokenMatcher::new(
                r"\$1\$[./A-Za-z0-9]{8}\$[./A-Za-z0-9]{22}|\$2[abxy]\$[0-9]{2}\$[./A-Za-z0-9]{53}|\$[56]\$(?:rounds=[0-9]{1,9}\$)?[./A-Za-z0-9]{1,16}\$(?:[./A-Za-z0-9]{86}|[./A-Za-z0-9]{43})|\$[89]\$[./A-Za-z0-9]{14}\$[./A-Za-z0-9]{43}|\$argon2(?:id|i|d)\$v=[0-9]+\$m=[0-9]+,t=[0-9]+,p=[0-9]+\$[A-Za-z0-9+/]{16,}\$[A-Za-z0-9+/]{32,}",
                high,
            ))
        },
    },
];

/// A connection-string password that is a value, not a placeholder.
fn check_password(text: &str, s: usize, e: usize) -> Option<Confidence> {
    let v = &text[s..e];
    let placeholder = v.starts_with(['<', '{', '$', '*', '%'])
        || v.bytes().all(|b| matches!(b, b'*' | b'x' | b'X' | b'.'))
        || ["password", "pass", "passwd", "pwd", "secret", "changeme", "xxx"]
            .iter()
            .any(|p| v.eq_ignore_ascii_case(p));
    (!placeholder).then_some(Confidence::High)
}

/// Basic credentials decode to `user:password`; a Bearer token is not a placeholder.
fn check_auth(text: &str, s: usize, e: usize) -> Option<Confidence> {
    let v = &text[s..e];
    let basic = before(text, s, 8, &["basic"]);
    if basic {
        let decoded = decode_b64(v)?;
        return (decoded.contains(&b':') && decoded.iter().all(|&b| b >= 0x20)).then_some(Confidence::High);
    }
    (classes(v) >= 2 && entropy(v) >= 3.0).then_some(Confidence::High)
}

/// Decodes standard base64 (padding optional); `None` on any other character.
fn decode_b64(s: &str) -> Option<Vec<u8>> {
    super::secrets::decode_base64(s.trim_end_matches('='), b'+', b'/')
}
