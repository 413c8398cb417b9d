//! Golden tests of `shopper-intent featurize` on a small log the project wrote itself.

use std::path::{Path, PathBuf};
use std::process::Command;

use shopper_intent::features::{seq, AGG_LEN, SEQ_LEN};
use shopper_intent_cli::npy;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/small.jsonl")
}

fn out_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("shopper-intent-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn cli() -> Command {
    Command::new(env!("CARGO_BIN_EXE_shopper-intent"))
}

#[test]
fn featurize_small_log_counts_sessions_samples_and_malformed_lines() {
    let out = out_dir("small");
    let run = cli()
        .args(["featurize", "--input"])
        .arg(fixture())
        .args(["--seed", "3", "--window", "4", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let stderr = String::from_utf8_lossy(&run.stderr);
    for line in ["line 6:", "line 9:", "line 10:"] {
        assert!(stderr.contains(line), "malformed {line} not reported: {stderr}");
    }
    let summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let total = &summary["total"];
    assert_eq!(summary["malformed_lines"], 3);
    assert_eq!(summary["feature_version"], 1);
    // sha256 of the fixture, as `sha256sum` prints it.
    assert_eq!(summary["input_sha256"], "77b54c1387d776fe255b81f61307379e952b0db26250a2d7339cf0df80c17fff");
    assert_eq!(total["users"], 3);
    assert_eq!(total["events"], 10);
    assert_eq!(total["sessions"], 4);
    assert_eq!(total["positive_sessions"], 2);
    assert_eq!(total["sessions_starting_with_purchase"], 1);
    assert_eq!(total["samples"], 6);
    assert_eq!(total["positive_samples"], 3);

    // Gather all splits' samples and check u1's third prefix (the add_to_cart of i1).
    let mut found = false;
    let mut samples = 0;
    for split in ["train", "val", "test"] {
        let dir = out.join(split);
        let (shape, seqs) = npy::read::<f32>(&dir.join("seq.npy")).unwrap();
        let (_, prefix) = npy::read::<i32>(&dir.join("prefix.npy")).unwrap();
        let (_, len) = npy::read::<i32>(&dir.join("len.npy")).unwrap();
        let (_, label) = npy::read::<u8>(&dir.join("label.npy")).unwrap();
        let (agg_shape, _) = npy::read::<f32>(&dir.join("agg.npy")).unwrap();
        assert_eq!(shape[1..], [4, SEQ_LEN]);
        assert_eq!(agg_shape[1], AGG_LEN);
        samples += prefix.len();
        for i in 0..prefix.len() {
            let base = i * 4 * SEQ_LEN;
            let row = |r: usize| &seqs[base + r * SEQ_LEN..base + (r + 1) * SEQ_LEN];
            // Right padding: rows past len are zero.
            for r in len[i] as usize..4 {
                assert!(row(r).iter().all(|&v| v == 0.0));
            }
            if prefix[i] == 3 {
                found = true;
                let last = row(2);
                assert_eq!(last[seq::KIND + 6], 1.0, "add_to_cart one-hot");
                assert_eq!(last[seq::REPEAT_ITEM], 1.0);
                assert!((last[seq::LOG_SESSION_CARTS] - 2f32.ln()).abs() < 1e-6);
                assert!((last[seq::LOG_GAP_S] - 61f32.ln()).abs() < 1e-5);
                assert_eq!(label[i], 1);
                assert!((row(0)[seq::LOG_PRICE] - 21f32.ln()).abs() < 1e-5);
            }
        }
    }
    assert_eq!(samples, 6);
    assert!(found, "u1's third prefix is missing");
}

#[test]
fn reject_mode_stops_at_the_first_malformed_line() {
    let out = out_dir("reject");
    let run = cli()
        .args(["featurize", "--on-error", "reject", "--input"])
        .arg(fixture())
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(!run.status.success());
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("line 6:") && stderr.contains("ts must be an integer"), "{stderr}");
    assert!(!out.join("summary.json").exists());
}

#[test]
fn features_command_prints_the_version_and_every_name() {
    let run = cli().args(["features", "--json"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(v["feature_version"], 1);
    assert_eq!(v["sequence_features"].as_array().unwrap().len(), SEQ_LEN);
    assert_eq!(v["aggregate_features"].as_array().unwrap().len(), AGG_LEN);
}
