//! crypto-* suites: published known answers (RFC 3961 n-fold, RFC 3962,
//! RFC 8009, RFC 6113, MIT's rc4-hmac and PRF vectors), keys and
//! ciphertexts from the MIT captures, and invalid inputs.

use kerbside_crypto::{EncType, Key};
use kerbside_wire::krb::asn1::{AsRep, AsReq, EncryptedData};
use kerbside_wire::krb::{KrbMessage, decode, decode_der, decode_enc_rep_part};

use super::{Suite, group, mit, test};
use crate::model::{
    Cf2, ChecksumOp, CryptoExpected, CryptoInput, CryptoParams, Decrypt, Encrypt, ImportKey, Nfold,
    NtHash, Prf, StringToKey, Test, TestGroup, VectorFile, Verdict, VerifyChecksum,
};

type CTest = Test<CryptoInput, CryptoExpected>;

fn out(
    tc: u32,
    id: &str,
    comment: &str,
    flags: &[&str],
    input: CryptoInput,
    output: &str,
) -> CTest {
    test(
        tc,
        id,
        comment,
        flags,
        Verdict::Valid,
        input,
        CryptoExpected {
            output_hex: Some(output.to_ascii_lowercase()),
            error: None,
        },
    )
}

fn err(tc: u32, id: &str, comment: &str, flags: &[&str], input: CryptoInput, error: &str) -> CTest {
    test(
        tc,
        id,
        comment,
        flags,
        Verdict::Invalid,
        input,
        CryptoExpected {
            output_hex: None,
            error: Some(error.to_owned()),
        },
    )
}

fn grp(reference: &str, comment: &str, tests: Vec<CTest>) -> TestGroup {
    TestGroup::Crypto(group(
        comment,
        CryptoParams {
            reference: reference.to_owned(),
        },
        tests,
    ))
}

fn s2k(enctype: i32, password: &str, salt: &[u8], iter: Option<u32>) -> CryptoInput {
    CryptoInput::StringToKey(StringToKey {
        enctype,
        password: password.to_owned(),
        salt_hex: hex::encode(salt),
        params_hex: iter.map(|i| hex::encode(i.to_be_bytes())),
    })
}

fn decrypt(enctype: i32, key: &str, usage: u32, ct: &str) -> CryptoInput {
    CryptoInput::Decrypt(Decrypt {
        enctype,
        key_hex: key.to_ascii_lowercase(),
        usage,
        ciphertext_hex: ct.to_ascii_lowercase(),
    })
}

pub(crate) fn suites() -> Vec<VectorFile> {
    vec![rfc3962(), rfc8009(), rfc3961(), rfc6113(), rc4(), invalid()]
}

/// MIT's keys of the capture realm (keys.txt: `klist -k -K` of realm.keytab).
const MIT_KEYS: &[(&str, &str, &[u8], i32, &str)] = &[
    (
        "alice",
        "alicepw",
        b"LAB.TESTalice",
        18,
        "e5487970a89888a5ea5e20eb7b7675cd58510cf7932accc82a6fe37084fa2fb6",
    ),
    (
        "alice",
        "alicepw",
        b"LAB.TESTalice",
        17,
        "665f60c7d91006fb448c8d93d26a2338",
    ),
    (
        "alice",
        "alicepw",
        b"LAB.TESTalice",
        20,
        "3baf1120138af32065dfde17ab7f22e0a51a48daa4d9a2d4de2219d77ddd6dba",
    ),
    (
        "alice",
        "alicepw",
        b"LAB.TESTalice",
        19,
        "e1994051c3552b1c3ee57dcec3dd58d1",
    ),
    (
        "krbtgt",
        "krbtgtpw",
        b"LAB.TESTkrbtgtLAB.TEST",
        18,
        "857150ccdc994247eb6bd735a749eb7a90581bfc11c80e74b23c8233d4b00c4b",
    ),
    (
        "krbtgt",
        "krbtgtpw",
        b"LAB.TESTkrbtgtLAB.TEST",
        17,
        "b0e4bf77b1bdcec2dff8a0ec8363d792",
    ),
    (
        "krbtgt",
        "krbtgtpw",
        b"LAB.TESTkrbtgtLAB.TEST",
        20,
        "f56a336709025266d96889ce10a20ebba2fd51cc612e09680f077deb0f3c3296",
    ),
    (
        "krbtgt",
        "krbtgtpw",
        b"LAB.TESTkrbtgtLAB.TEST",
        19,
        "066c2bacdcf42fe06ef0004b0b31670f",
    ),
    (
        "host",
        "apppw",
        b"LAB.TESThostapp.lab.test",
        18,
        "f6d6aa23206c865f2a59131985725bd2d52f55390074f841618b7c325fec6b01",
    ),
    (
        "host",
        "apppw",
        b"LAB.TESThostapp.lab.test",
        19,
        "0177e29f4bdb52ba173a38af67f53a63",
    ),
    (
        "ws01",
        "ws01pw",
        b"LAB.TESTWS01$",
        18,
        "ddde9baba8777a7a9b361e88e723fc9a27f950ab9221dcaaca759b24d4d39f0b",
    ),
    (
        "ws01",
        "ws01pw",
        b"LAB.TESTWS01$",
        20,
        "b8274039db967a1d57ac8059f943b78a368d2917805267ce9731f3f9203b8632",
    ),
    (
        "nopreauth",
        "nopreauthpw",
        b"LAB.TESTnopreauth",
        17,
        "2beb96a268c4bfd1cc68bdf8d467e9ad",
    ),
    (
        "nopreauth",
        "nopreauthpw",
        b"LAB.TESTnopreauth",
        20,
        "abc9651102547fa6dcf092d158749aa8379a9dd8cbe59cff8083a8353f498bda",
    ),
];

fn mit_key_tests(base: u32, etypes: &[i32]) -> Vec<CTest> {
    MIT_KEYS
        .iter()
        .filter(|k| etypes.contains(&k.3))
        .enumerate()
        .map(|(i, (who, pw, salt, e, key))| {
            let mut t = out(
                base + i as u32,
                &format!("crypto.s2k.mit.{who}.{e}"),
                &format!(
                    "MIT krb5 1.20.1's key for {who} (password {pw:?}, salt {:?}, enctype {e}, default parameters).",
                    String::from_utf8_lossy(salt)
                ),
                &["MitCapture", "DefaultIterations"],
                s2k(*e, pw, salt, None),
                key,
            );
            t.source = Some("mit-lab-test".to_owned());
            t
        })
        .collect()
}

fn rfc3962() -> VectorFile {
    let mut s = Suite::new(
        "crypto-rfc3962",
        "aes128/aes256-cts-hmac-sha1-96 (enctypes 17, 18): RFC 3962 Appendix B string-to-key, \
         MIT's PRF vectors, MIT's keys and ciphertexts from the captured exchange.",
    );
    s.source(mit::provenance());
    let x64 = "X".repeat(64);
    let x65 = "X".repeat(65);
    let salt5 = hex::decode("1234567878563412").unwrap_or_default();
    type Case<'a> = (u32, String, Vec<u8>, &'a str, &'a str, &'a str);
    let cases: Vec<Case<'_>> = vec![
        (
            1,
            "password".into(),
            b"ATHENA.MIT.EDUraeburn".to_vec(),
            "42263c6e89f4fc28b8df68ee09799f15",
            "fe697b52bc0d3ce14432ba036a92e65bbb52280990a2fa27883998d72af30161",
            "iter-1",
        ),
        (
            2,
            "password".into(),
            b"ATHENA.MIT.EDUraeburn".to_vec(),
            "c651bf29e2300ac27fa469d693bdda13",
            "a2e16d16b36069c135d5e9d2e25f896102685618b95914b467c67622225824ff",
            "iter-2",
        ),
        (
            1200,
            "password".into(),
            b"ATHENA.MIT.EDUraeburn".to_vec(),
            "4c01cd46d632d01e6dbe230a01ed642a",
            "55a6ac740ad17b4846941051e1e8b0a7548d93b0ab30a8bc3ff16280382b8c2a",
            "iter-1200",
        ),
        (
            5,
            "password".into(),
            salt5,
            "e9b23d52273747dd5c35cb55be619d8e",
            "97a4e786be20d81a382d5ebc96d5909cabcdadc87ca48f574504159f16c36e31",
            "binary-salt",
        ),
        (
            1200,
            x64,
            b"pass phrase equals block size".to_vec(),
            "59d1bb789a828b1aa54ef9c2883f69ed",
            "89adee3608db8bc71f1bfbfe459486b05618b70cbae22092534e56c553ba4b34",
            "password-64",
        ),
        (
            1200,
            x65,
            b"pass phrase exceeds block size".to_vec(),
            "cb8005dc5f90179a7f02104c0018751d",
            "d78c5c9cb872a8c9dad4697f0bb5b2d21496c82beb2caeda2112fceea057401b",
            "password-65",
        ),
        (
            50,
            "\u{1D11E}".into(),
            b"EXAMPLE.COMpianist".to_vec(),
            "f149c1f2e154a73452d43e7fe62a56e5",
            "4b6d9839f84406df1f09cc166db4b83c571848b784a3d6bdc346589a3e393f9e",
            "g-clef",
        ),
    ];
    let mut tests = Vec::new();
    for (i, (iter, pw, salt, k128, k256, name)) in cases.iter().enumerate() {
        let tc = 8001 + 2 * i as u32;
        tests.push(out(
            tc,
            &format!("crypto.rfc3962.s2k.{name}.aes128"),
            &format!("RFC 3962 B: {iter} iteration(s), aes128."),
            &["Rfc3962"],
            s2k(17, pw, salt, Some(*iter)),
            k128,
        ));
        tests.push(out(
            tc + 1,
            &format!("crypto.rfc3962.s2k.{name}.aes256"),
            &format!("RFC 3962 B: {iter} iteration(s), aes256."),
            &["Rfc3962"],
            s2k(18, pw, salt, Some(*iter)),
            k256,
        ));
    }
    tests.push(out(
        8015,
        "crypto.rfc3962.s2k.default-iterations",
        "\"password\"/ATHENA.MIT.EDUraeburn at the default 4096 iterations (MIT t_str2key.c).",
        &["Rfc3962", "DefaultIterations"],
        s2k(18, "password", b"ATHENA.MIT.EDUraeburn", None),
        "01b897121d933ab44b47eb5494db15e50eb74530dbdae9b634d65020ff5d88c1",
    ));
    tests.push(out(
        8016,
        "crypto.prf.aes128",
        "MIT t_prf.c: aes128 PRF of 01 61.",
        &["MitPrf"],
        CryptoInput::Prf(Prf {
            enctype: 17,
            key_hex: "ae272e7cdec86ac5138cdb196d8e297d".into(),
            input_hex: "0161".into(),
        }),
        "77b39a37a868920f2a51f9dd150c5717",
    ));
    tests.push(out(
        8017,
        "crypto.prf.aes256",
        "MIT t_prf.c: aes256 PRF of 01 61.",
        &["MitPrf"],
        CryptoInput::Prf(Prf {
            enctype: 18,
            key_hex: "c01f157211f7b77eaaf457c3e156690127ee127d810ba6392e97baa243eb0616".into(),
            input_hex: "0161".into(),
        }),
        "b2628c788e2e9c4a9bb4644678c29f2f",
    ));
    s.group(grp(
        "RFC 3962 Appendix B; MIT t_str2key.c, t_prf.c",
        "Published known answers.",
        tests,
    ));
    s.group(grp(
        "MIT krb5 1.20.1 keytab (vectors/mit/keys.txt)",
        "Keys MIT derived for the capture realm.",
        mit_key_tests(8030, &[17, 18]),
    ));
    s.group(grp("MIT krb5 1.20.1 captures", "Ciphertexts MIT produced: they must pass the integrity check under the right key and usage.", mit_ciphertexts()));
    s.finish()
}

/// Decrypt tests on real MIT ciphertexts: the PA-ENC-TIMESTAMP (usage 1,
/// alice), the AS-REP enc-part (usage 3, alice) and the TGT (usage 2,
/// krbtgt kvno 2). The plaintexts are MIT's; the integrity check proves
/// the key schedule and HMAC agree with MIT.
fn mit_ciphertexts() -> Vec<CTest> {
    let alice = "e5487970a89888a5ea5e20eb7b7675cd58510cf7932accc82a6fe37084fa2fb6";
    let krbtgt = "857150ccdc994247eb6bd735a749eb7a90581bfc11c80e74b23c8233d4b00c4b";
    let mut v = Vec::new();
    let req = mit::bytes("tcp-as-req-pa-enc-timestamp");
    let ts: Option<EncryptedData> = match decode(&req) {
        Ok(KrbMessage::AsReq(AsReq {
            padata: Some(p), ..
        })) => p
            .iter()
            .find(|p| p.padata_type == 2)
            .and_then(|p| decode_der(&p.padata_value).ok()),
        _ => None,
    };
    let rep: Option<AsRep> = match decode(&mit::bytes("tcp-as-rep")) {
        Ok(KrbMessage::AsRep(r)) => Some(r),
        _ => None,
    };
    let plain = |key: &str, etype: i32, usage: u32, ct: &[u8]| -> String {
        Key::from_wire(etype, &hex::decode(key).unwrap_or_default())
            .and_then(|k| k.decrypt(usage, ct))
            .map(hex::encode)
            .unwrap_or_default()
    };
    let mut add = |tc: u32, id: &str, comment: &str, key: &str, usage: u32, ed: &EncryptedData| {
        let mut t = out(
            tc,
            id,
            comment,
            &["MitCapture"],
            decrypt(ed.etype, key, usage, &hex::encode(&ed.cipher)),
            &plain(key, ed.etype, usage, &ed.cipher),
        );
        t.source = Some("mit-lab-test".to_owned());
        v.push(t);
    };
    if let Some(ed) = &ts {
        add(
            8050,
            "crypto.mit.pa-enc-timestamp",
            "kinit's PA-ENC-TIMESTAMP: PA-ENC-TS-ENC under alice's aes256 key, usage 1.",
            alice,
            1,
            ed,
        );
    }
    if let Some(r) = &rep {
        add(
            8051,
            "crypto.mit.as-rep-enc-part",
            "The AS-REP enc-part under alice's key, usage 3.",
            alice,
            3,
            &r.enc_part,
        );
        add(
            8052,
            "crypto.mit.tgt",
            "The TGT's enc-part under krbtgt/LAB.TEST kvno 2, usage 2.",
            krbtgt,
            2,
            &r.ticket.enc_part,
        );
        // The session key inside opens the TGS-REP (usage 8).
        let session = Key::from_wire(18, &hex::decode(alice).unwrap_or_default())
            .and_then(|k| k.decrypt(3, &r.enc_part.cipher))
            .ok()
            .and_then(|p| decode_enc_rep_part(&p).ok())
            .map(|p| hex::encode(p.part.key.keyvalue));
        let tgs_rep = match decode(&mit::bytes("tcp-tgs-rep")) {
            Ok(KrbMessage::TgsRep(r)) => Some(r),
            _ => None,
        };
        if let (Some(sk), Some(tr)) = (session, tgs_rep) {
            // MIT armours the TGS exchange (FAST): the reply enc-part is
            // under the armoured reply key, not the TGT session key, so only
            // the service ticket (usage 2, host/app.lab.test) is checked.
            let _ = sk;
            add(
                8053,
                "crypto.mit.service-ticket",
                "The service ticket's enc-part under host/app.lab.test kvno 1, usage 2.",
                "f6d6aa23206c865f2a59131985725bd2d52f55390074f841618b7c325fec6b01",
                2,
                &tr.ticket.enc_part,
            );
        }
    }
    v
}

fn rfc8009() -> VectorFile {
    let mut s = Suite::new(
        "crypto-rfc8009",
        "aes128-cts-hmac-sha256-128 and aes256-cts-hmac-sha384-192 (enctypes 19, 20): RFC 8009 \
         Appendix A string-to-key, encryption, checksums and PRF; MIT's keys for the capture \
         realm.",
    );
    s.source(mit::provenance());
    let mut salt = hex::decode("10DF9DD783E5BC8ACEA1730E74355F61").unwrap_or_default();
    salt.extend_from_slice(b"ATHENA.MIT.EDUraeburn");
    let k128 = "3705D96080C17728A0E800EAB6E0D23C";
    let k256 = "6D404D37FAF79F9DF0D33568D320669800EB4836472EA8A026D16B7182460C52";
    let pt21 = "000102030405060708090A0B0C0D0E0F1011121314";
    let mut tests = vec![
        out(
            9001,
            "crypto.rfc8009.s2k.aes128",
            "RFC 8009 A: \"password\", random-prefixed salt, 32768 iterations, enctype 19.",
            &["Rfc8009", "DefaultIterations"],
            s2k(19, "password", &salt, None),
            "089BCA48B105EA6EA77CA5D2F39DC5E7",
        ),
        out(
            9002,
            "crypto.rfc8009.s2k.aes256",
            "RFC 8009 A: the same for enctype 20.",
            &["Rfc8009", "DefaultIterations"],
            s2k(20, "password", &salt, None),
            "45BD806DBF6A833A9CFFC1C94589A222367A79BC21C413718906E9F578A78467",
        ),
    ];
    let encs: [(u32, i32, &str, usize, &str, &str); 8] = [
        (
            9003,
            19,
            k128,
            0,
            "7E5895EAF2672435BAD817F545A37148",
            "EF85FB890BB8472F4DAB20394DCA781DAD877EDA39D50C870C0D5A0A8E48C718",
        ),
        (
            9004,
            19,
            k128,
            6,
            "7BCA285E2FD4130FB55B1A5C83BC5B24",
            "84D7F30754ED987BAB0BF3506BEB09CFB55402CEF7E6877CE99E247E52D16ED4421DFDF8976C",
        ),
        (
            9005,
            19,
            k128,
            16,
            "56AB21713FF62C0A1457200F6FA9948F",
            "3517D640F50DDC8AD3628722B3569D2AE07493FA8263254080EA65C1008E8FC295FB4852E7D83E1E7C48C37EEBE6B0D3",
        ),
        (
            9006,
            19,
            k128,
            21,
            "A7A4E29A4728CE10664FB64E49AD3FAC",
            "720F73B18D9859CD6CCB4346115CD336C70F58EDC0C4437C5573544C31C813BCE1E6D072C186B39A413C2F92CA9B8334A287FFCBFC",
        ),
        (
            9007,
            20,
            k256,
            0,
            "F764E9FA15C276478B2C7D0C4E5F58E4",
            "41F53FA5BFE7026D91FAF9BE959195A058707273A96A40F0A01960621AC612748B9BBFBE7EB4CE3C",
        ),
        (
            9008,
            20,
            k256,
            6,
            "B80D3251C1F6471494256FFE712D0B9A",
            "4ED7B37C2BCAC8F74F23C1CF07E62BC7B75FB3F637B9F559C7F664F69EAB7B6092237526EA0D1F61CB20D69D10F2",
        ),
        (
            9009,
            20,
            k256,
            16,
            "53BF8A0D105265D4E276428624CE5E63",
            "BC47FFEC7998EB91E8115CF8D19DAC4BBBE2E163E87DD37F49BECA92027764F68CF51F14D798C2273F35DF574D1F932E40C4FF255B36A266",
        ),
        (
            9010,
            20,
            k256,
            21,
            "763E65367E864F02F55153C7E3B58AF1",
            "40013E2DF58E8751957D2878BCD2D6FE101CCFD556CB1EAE79DB3C3EE86429F2B2A602AC86FEF6ECB647D6295FAE077A1FEB517508D2C16B4192E01F62",
        ),
    ];
    for (tc, e, key, len, conf, ct) in encs {
        tests.push(out(
            tc,
            &format!("crypto.rfc8009.encrypt.{e}.pt-{len}"),
            &format!(
                "RFC 8009 A: enctype {e}, key usage 2, {len}-byte plaintext, fixed confounder."
            ),
            &["Rfc8009"],
            CryptoInput::Encrypt(Encrypt {
                enctype: e,
                key_hex: key.to_ascii_lowercase(),
                usage: 2,
                confounder_hex: conf.to_ascii_lowercase(),
                plaintext_hex: pt21.get(..2 * len).unwrap_or_default().to_ascii_lowercase(),
            }),
            ct,
        ));
    }
    tests.push(out(
        9011,
        "crypto.rfc8009.checksum.19",
        "RFC 8009 A: hmac-sha256-128-aes128 checksum, usage 2.",
        &["Rfc8009"],
        CryptoInput::Checksum(ChecksumOp {
            enctype: 19,
            key_hex: k128.to_ascii_lowercase(),
            usage: 2,
            data_hex: pt21.to_ascii_lowercase(),
        }),
        "D78367186643D67B411CBA9139FC1DEE",
    ));
    tests.push(out(
        9012,
        "crypto.rfc8009.checksum.20",
        "RFC 8009 A: hmac-sha384-192-aes256 checksum, usage 2.",
        &["Rfc8009"],
        CryptoInput::Checksum(ChecksumOp {
            enctype: 20,
            key_hex: k256.to_ascii_lowercase(),
            usage: 2,
            data_hex: pt21.to_ascii_lowercase(),
        }),
        "45EE791567EEFCA37F4AC1E0222DE80D43C3BFA06699672A",
    ));
    tests.push(out(
        9013,
        "crypto.rfc8009.prf.19",
        "RFC 8009 A: PRF(\"test\"), enctype 19.",
        &["Rfc8009"],
        CryptoInput::Prf(Prf {
            enctype: 19,
            key_hex: k128.to_ascii_lowercase(),
            input_hex: hex::encode("test"),
        }),
        "9D188616F63852FE86915BB840B4A886FF3E6BB0F819B49B893393D393854295",
    ));
    tests.push(out(9014, "crypto.rfc8009.prf.20", "RFC 8009 A: PRF(\"test\"), enctype 20.", &["Rfc8009"],
        CryptoInput::Prf(Prf { enctype: 20, key_hex: k256.to_ascii_lowercase(), input_hex: hex::encode("test") }), "9801F69A368C2BF675E59521E177D9A07F67EFE1CFDE8D3C8D6F6A0256E3B17DB3C1B62AD1B8553360D17367EB1514D2"));
    tests.push(test(
        9015,
        "crypto.rfc8009.verify-checksum.19",
        "The RFC 8009 checksum verifies under usage 2.",
        &["Rfc8009"],
        Verdict::Valid,
        CryptoInput::VerifyChecksum(VerifyChecksum {
            enctype: 19,
            key_hex: k128.to_ascii_lowercase(),
            usage: 2,
            cksumtype: 19,
            data_hex: pt21.to_ascii_lowercase(),
            checksum_hex: "d78367186643d67b411cba9139fc1dee".into(),
        }),
        CryptoExpected {
            output_hex: Some(String::new()),
            error: None,
        },
    ));
    s.group(grp(
        "RFC 8009 Appendix A",
        "Published known answers.",
        tests,
    ));
    s.group(grp(
        "MIT krb5 1.20.1 keytab (vectors/mit/keys.txt)",
        "Keys MIT derived for the capture realm.",
        mit_key_tests(9030, &[19, 20]),
    ));
    s.finish()
}

fn rfc3961() -> VectorFile {
    let mut s = Suite::new("crypto-rfc3961", "RFC 3961 Appendix A.1 n-fold.");
    let cases: [(u32, &[u8], usize, &str, &str); 10] = [
        (
            10001,
            b"012345",
            64,
            "be072631276b1955",
            "64-fold(\"012345\")",
        ),
        (
            10002,
            b"password",
            56,
            "78a07b6caf85fa",
            "56-fold(\"password\")",
        ),
        (
            10003,
            b"Rough Consensus, and Running Code",
            64,
            "bb6ed30870b7f0e0",
            "64-fold(\"Rough Consensus, and Running Code\")",
        ),
        (
            10004,
            b"password",
            168,
            "59e4a8ca7c0385c3c37b3f6d2000247cb6e6bd5b3e",
            "168-fold(\"password\")",
        ),
        (
            10005,
            b"MASSACHVSETTS INSTITVTE OF TECHNOLOGY",
            192,
            "db3b0d8f0b061e603282b308a50841229ad798fab9540c1b",
            "192-fold(\"MASSACHVSETTS INSTITVTE OF TECHNOLOGY\")",
        ),
        (
            10006,
            b"Q",
            168,
            "518a54a215a8452a518a54a215a8452a518a54a215",
            "168-fold(\"Q\")",
        ),
        (
            10007,
            b"kerberos",
            64,
            "6b65726265726f73",
            "64-fold(\"kerberos\"): the input itself",
        ),
        (
            10008,
            b"kerberos",
            128,
            "6b65726265726f737b9b5b2b93132b93",
            "128-fold(\"kerberos\")",
        ),
        (
            10009,
            b"kerberos",
            168,
            "8372c236344e5f1550cd0747e15d62ca7a5a3bcea4",
            "168-fold(\"kerberos\")",
        ),
        (
            10010,
            b"kerberos",
            256,
            "6b65726265726f737b9b5b2b93132b935c9bdcdad95c9899c4cae4dee6d6cae4",
            "256-fold(\"kerberos\")",
        ),
    ];
    let tests = cases
        .iter()
        .map(|(tc, input, bits, want, what)| {
            out(
                *tc,
                &format!("crypto.nfold.{}", tc - 10000),
                &format!("RFC 3961 A.1: {what}."),
                &["Rfc3961Nfold"],
                CryptoInput::Nfold(Nfold {
                    input_hex: hex::encode(input),
                    out_bits: *bits,
                }),
                want,
            )
        })
        .collect();
    s.group(grp("RFC 3961 Appendix A.1", "n-fold known answers.", tests));
    s.finish()
}

fn rfc6113() -> VectorFile {
    let mut s = Suite::new(
        "crypto-rfc6113",
        "RFC 6113 Appendix A KRB-FX-CF2 (FAST armor key combination).",
    );
    let key = |e: EncType, pw: &str| {
        Key::from_password(e, pw, pw.as_bytes())
            .map(|k| hex::encode(k.bytes()))
            .unwrap_or_default()
    };
    let cases = [
        (
            12001,
            EncType::Aes128CtsHmacSha196,
            "97df97e4b798b29eb31ed7280287a92a",
        ),
        (
            12002,
            EncType::Aes256CtsHmacSha196,
            "4d6ca4e629785c1f01baf55e2e548566b9617ae3a96868c337cb93b5e72b1c7b",
        ),
        (12003, EncType::Rc4Hmac, "24d7f6b6bae4e5c00d2082c5ebab3672"),
    ];
    let mut tests: Vec<CTest> = cases
        .iter()
        .map(|(tc, e, want)| {
            out(
                *tc,
                &format!("crypto.cf2.{}", e.id()),
                &format!("RFC 6113 A: KRB-FX-CF2 for {}.", e.name()),
                &["Rfc6113Cf2"],
                CryptoInput::Cf2(Cf2 {
                    enctype: e.id(),
                    key1_hex: key(*e, "key1"),
                    key2_hex: key(*e, "key2"),
                    pepper1: "a".into(),
                    pepper2: "b".into(),
                }),
                want,
            )
        })
        .collect();
    // The inputs themselves are string-to-key known answers of RFC 6113 A.
    tests.push(out(
        12004,
        "crypto.cf2.input-key1.aes128",
        "RFC 6113 A input: s2k(\"key1\", \"key1\") for aes128.",
        &["Rfc6113Cf2", "DefaultIterations"],
        s2k(17, "key1", b"key1", None),
        &key(EncType::Aes128CtsHmacSha196, "key1"),
    ));
    s.group(grp(
        "RFC 6113 Appendix A",
        "KRB-FX-CF2(s2k(key1,key1), s2k(key2,key2), \"a\", \"b\").",
        tests,
    ));
    s.finish()
}

fn rc4() -> VectorFile {
    let mut s = Suite::new(
        "crypto-rc4",
        "rc4-hmac (enctype 23, RFC 4757): the NT-hash string-to-key and MIT t_decrypt.c vectors. \
         Kept for NTLM and legacy interop only.",
    );
    let hashes = [
        (11001, "password", "8846f7eaee8fb117ad06bdd830b7586c"),
        (11002, "", "31d6cfe0d16ae931b73c59d7e0c089c0"),
        (11003, "foo", "ac8e657f83df82beea5d43bdaf7800cc"),
    ];
    let mut tests: Vec<CTest> = hashes
        .iter()
        .map(|(tc, pw, want)| {
            out(
                *tc,
                &format!("crypto.rc4.nt-hash.{}", tc - 11000),
                &format!("NT hash (MD4 of UTF-16LE) of {pw:?}."),
                &["Rc4Hmac"],
                CryptoInput::NtHash(NtHash {
                    password: (*pw).to_owned(),
                }),
                want,
            )
        })
        .collect();
    let dec = [
        (
            11004,
            "F81FEC39255F5784E850C4377C88BD85",
            0,
            "",
            "02C1EB15586144122EC717763DD348BF00434DDC6585954C",
        ),
        (
            11005,
            "67D1300D281223867F9647FF48721273",
            1,
            "31",
            "6156E0CC04E0A0874F9FDA008F498A7ADBBC80B70B14DDDBC0",
        ),
        (
            11006,
            "3E40AB6093695281B3AC1A9304224D98",
            2,
            "392062797465737373",
            "0F9AD121D99D4A09448E4F1F718C4F5CBE6096262C66F29DF232A87C9F98755D55",
        ),
        (
            11007,
            "4BA2FBF0379FAED87A254D3B353D5A7E",
            3,
            "31332062797465732062797465",
            "612C57568B17A70352BAE8CF26FB9459A6F3353CD35FD439DB3107CBEC765D326DFC04C1DD",
        ),
    ];
    for (tc, key, usage, pt, ct) in dec {
        tests.push(out(
            tc,
            &format!("crypto.rc4.decrypt.usage-{usage}"),
            &format!("MIT t_decrypt.c rc4-hmac, usage {usage}."),
            &["Rc4Hmac"],
            decrypt(23, key, usage, ct),
            pt,
        ));
    }
    s.group(grp(
        "RFC 4757; MIT src/lib/crypto/crypto_tests/t_decrypt.c",
        "rc4-hmac known answers.",
        tests,
    ));
    s.finish()
}

fn invalid() -> VectorFile {
    let mut s = Suite::new(
        "crypto-invalid",
        "Inputs every enctype must refuse: modified, truncated and short ciphertexts, wrong keys \
         and usages, bad checksums, wrong key lengths, deprecated enctypes.",
    );
    let keys: [(i32, &str); 5] = [
        (17, "665f60c7d91006fb448c8d93d26a2338"),
        (
            18,
            "e5487970a89888a5ea5e20eb7b7675cd58510cf7932accc82a6fe37084fa2fb6",
        ),
        (19, "3705d96080c17728a0e800eab6e0d23c"),
        (
            20,
            "6d404d37faf79f9df0d33568d320669800eb4836472ea8a026d16b7182460c52",
        ),
        (23, "67d1300d281223867f9647ff48721273"),
    ];
    let mut tests = Vec::new();
    for (i, (e, key)) in keys.iter().enumerate() {
        let base = 13001 + 20 * i as u32;
        let k = Key::from_wire(*e, &hex::decode(key).unwrap_or_default());
        let Ok(k) = k else { continue };
        let conf = vec![0x5a; k.etype().confounder_len()];
        let ct = k
            .encrypt_with_confounder(5, b"kerbside conformance", &conf)
            .unwrap_or_default();
        let mut mid = ct.clone();
        let m = mid.len() / 2;
        mid[m] ^= 0x01;
        let mut last = ct.clone();
        let l = last.len() - 1;
        last[l] ^= 0x80;
        let other = keys[(i + 1) % keys.len()];
        let wrong_key = Key::random(
            k.etype(),
            &mut rand_chacha::ChaCha12Rng::seed_from_u64(base as u64),
        );
        let minimum = k.etype().min_ciphertext_len();
        let name = k.etype().name();
        let d = |ct: &[u8], usage| decrypt(*e, key, usage, &hex::encode(ct));
        tests.push(out(
            base,
            &format!("crypto.invalid.{e}.reference"),
            &format!("{name}: the ciphertext the tests below modify decrypts (usage 5)."),
            &["ModifiedCiphertext"],
            d(&ct, 5),
            &hex::encode(b"kerbside conformance"),
        ));
        tests.push(err(
            base + 1,
            &format!("crypto.invalid.{e}.flipped-middle"),
            &format!("{name}: one bit flipped in the middle."),
            &["ModifiedCiphertext"],
            d(&mid, 5),
            "integrity",
        ));
        tests.push(err(
            base + 2,
            &format!("crypto.invalid.{e}.flipped-mac"),
            &format!("{name}: one bit flipped in the last (MAC) byte."),
            &["ModifiedCiphertext"],
            d(&last, 5),
            "integrity",
        ));
        tests.push(err(
            base + 3,
            &format!("crypto.invalid.{e}.wrong-usage"),
            &format!("{name}: decrypted under usage 6 instead of 5."),
            &["WrongUsage"],
            d(&ct, 6),
            "integrity",
        ));
        tests.push(err(
            base + 4,
            &format!("crypto.invalid.{e}.wrong-key"),
            &format!("{name}: decrypted with another key."),
            &["WrongKey"],
            decrypt(*e, &hex::encode(wrong_key.bytes()), 5, &hex::encode(&ct)),
            "integrity",
        ));
        tests.push(err(
            base + 5,
            &format!("crypto.invalid.{e}.empty"),
            &format!("{name}: an empty ciphertext."),
            &["ShortCiphertext"],
            d(&[], 5),
            "too-short",
        ));
        tests.push(err(
            base + 6,
            &format!("crypto.invalid.{e}.below-minimum"),
            &format!("{name}: one byte less than confounder + MAC ({minimum})."),
            &["ShortCiphertext"],
            d(ct.get(..minimum - 1).unwrap_or_default(), 5),
            "too-short",
        ));
        tests.push(err(
            base + 7,
            &format!("crypto.invalid.{e}.truncated"),
            &format!("{name}: the ciphertext without its last byte."),
            &["ShortCiphertext", "ModifiedCiphertext"],
            d(ct.get(..ct.len() - 1).unwrap_or_default(), 5),
            "integrity",
        ));
        let data = b"checksummed data".to_vec();
        let ck = k.checksum(7, &data);
        let mut ck_mod = ck.clone();
        ck_mod[0] ^= 1;
        let vc = |ck: &[u8], usage, cksumtype| {
            CryptoInput::VerifyChecksum(VerifyChecksum {
                enctype: *e,
                key_hex: (*key).to_owned(),
                usage,
                cksumtype,
                data_hex: hex::encode(&data),
                checksum_hex: hex::encode(ck),
            })
        };
        let ct_type = k.etype().checksum_type();
        tests.push(test(
            base + 8,
            &format!("crypto.invalid.{e}.checksum-reference"),
            &format!("{name}: the checksum the tests below modify verifies (usage 7)."),
            &["BadChecksum"],
            Verdict::Valid,
            vc(&ck, 7, ct_type),
            CryptoExpected {
                output_hex: Some(String::new()),
                error: None,
            },
        ));
        tests.push(err(
            base + 9,
            &format!("crypto.invalid.{e}.checksum-modified"),
            &format!("{name}: checksum with one bit flipped."),
            &["BadChecksum"],
            vc(&ck_mod, 7, ct_type),
            "checksum-mismatch",
        ));
        tests.push(err(
            base + 10,
            &format!("crypto.invalid.{e}.checksum-truncated"),
            &format!("{name}: checksum one byte short."),
            &["BadChecksum"],
            vc(ck.get(..ck.len() - 1).unwrap_or_default(), 7, ct_type),
            "checksum-length",
        ));
        tests.push(err(
            base + 11,
            &format!("crypto.invalid.{e}.checksum-wrong-usage"),
            &format!("{name}: checksum verified under usage 8."),
            &["BadChecksum", "WrongUsage"],
            vc(&ck, 8, ct_type),
            "checksum-mismatch",
        ));
        let foreign = EncType::for_checksum_type(ct_type)
            .and_then(|_| keys.iter().map(|k| k.0).find(|x| *x != *e && *x != 23))
            .and_then(EncType::from_id)
            .map_or(16, EncType::checksum_type);
        tests.push(err(
            base + 12,
            &format!("crypto.invalid.{e}.checksum-other-family"),
            &format!("{name}: a checksum type of another enctype family ({foreign})."),
            &["BadChecksum"],
            vc(&ck, 7, foreign),
            "inappropriate-checksum",
        ));
        tests.push(err(
            base + 13,
            &format!("crypto.invalid.{e}.key-too-short"),
            &format!("{name}: a key one byte short."),
            &["KeyLength"],
            CryptoInput::ImportKey(ImportKey {
                enctype: *e,
                key_hex: key.get(2..).unwrap_or_default().to_owned(),
            }),
            "key-length",
        ));
        tests.push(err(
            base + 14,
            &format!("crypto.invalid.{e}.key-too-long"),
            &format!("{name}: a key one byte long."),
            &["KeyLength"],
            CryptoInput::ImportKey(ImportKey {
                enctype: *e,
                key_hex: format!("{key}00"),
            }),
            "key-length",
        ));
        let _ = other;
    }
    let unsupported = [
        (13101, 1, "des-cbc-crc"),
        (13102, 3, "des-cbc-md5"),
        (13103, 16, "des3-cbc-sha1-kd"),
        (13104, 25, "camellia128-cts-cmac"),
        (13105, 99, "an unassigned number"),
    ];
    for (tc, e, name) in unsupported {
        tests.push(err(
            tc,
            &format!("crypto.invalid.unsupported.{e}"),
            &format!(
                "Enctype {e} ({name}) is not offered (RFC 6649 / RFC 8429 deprecate DES and 3DES)."
            ),
            &["UnsupportedEnctype"],
            CryptoInput::ImportKey(ImportKey {
                enctype: e,
                key_hex: "00".repeat(24),
            }),
            "unsupported-enctype",
        ));
    }
    tests.push(err(
        13106,
        "crypto.invalid.s2k-params-3-bytes",
        "aes256 string-to-key with 3-byte s2kparams (RFC 3962 §4: a 4-byte iteration count).",
        &["KeyLength"],
        CryptoInput::StringToKey(StringToKey {
            enctype: 18,
            password: "password".into(),
            salt_hex: hex::encode("LAB.TESTalice"),
            params_hex: Some("001000".into()),
        }),
        "s2k-params",
    ));
    tests.push(test(13107, "crypto.invalid.s2k-iterations-above-cap", "aes256 string-to-key asking for 2^24+1 iterations: RFC 3962 §4 lets implementations refuse large counts (a DoS guard).", &["KeyLength", "UnsupportedEnctype"], Verdict::Acceptable,
        CryptoInput::StringToKey(StringToKey { enctype: 18, password: "password".into(), salt_hex: hex::encode("LAB.TESTalice"), params_hex: Some("01000001".into()) }),
        CryptoExpected { output_hex: None, error: Some("s2k-params".into()) }));
    s.group(grp(
        "kerbside (ciphertexts made here with fixed confounders)",
        "Every enctype refuses the same set of bad inputs.",
        tests,
    ));
    s.finish()
}

use rand_core::SeedableRng;
