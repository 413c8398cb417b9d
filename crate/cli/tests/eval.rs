//! `shopper-intent eval` on the shipped model reproduces the seed-0 test figures that the
//! training run recorded in the manifest (and the report), from the real Taobao data.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Taobao log: `$SHOPPER_INTENT_DATA/taobao/...` or `../shared/data/taobao/...`. Outside CI a
/// missing file is reported loudly and the test returns; in CI (`.ci/run` sets
/// `SHOPPER_INTENT_REQUIRE_DATA`; a runner's `CI` counts too) it fails.
fn taobao() -> Option<PathBuf> {
    let base = std::env::var_os("SHOPPER_INTENT_DATA").map(PathBuf::from).unwrap_or_else(|| root().join("../shared/data"));
    let path = base.join("taobao/UserBehavior_first100k.csv");
    if path.exists() {
        return Some(path);
    }
    let msg = format!("THE TAOBAO DATA IS MISSING at {}: this test cannot run (set SHOPPER_INTENT_DATA)", path.display());
    assert!(std::env::var_os("CI").is_none() && std::env::var_os("SHOPPER_INTENT_REQUIRE_DATA").is_none(), "{msg}");
    eprintln!("\n*** {msg} ***\n");
    None
}

#[test]
fn eval_reproduces_the_manifest_figures_on_seed_0_test_users() {
    let Some(data) = taobao() else { return };
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("eval-seed0.json");
    let run = Command::new(env!("CARGO_BIN_EXE_shopper-intent"))
        .args(["eval", "--seed", "0", "--bootstrap", "20", "--input"])
        .arg(&data)
        .arg("--model")
        .arg(root().join("models/intent.json"))
        .arg("--json")
        .arg(&out)
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let got: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let manifest: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(root().join("models/intent.json")).unwrap()).unwrap();
    let want = &manifest["metrics"];
    let model = &got["figures"][0];
    assert_eq!(model["name"], "model");
    assert_eq!(got["counts"]["samples"], want["samples"]);
    assert_eq!(got["counts"]["positive_samples"], want["positives"]);
    let pairs = [
        ("online_auc", &model["online_auc"]["value"]),
        ("pr_auc", &model["pr_auc"]),
        ("session_auc", &model["session_auc"]),
        ("brier", &model["brier"]),
        ("ece", &model["ece"]),
        ("f1", &model["at_threshold"]["f1"]),
        ("precision", &model["at_threshold"]["precision"]),
        ("recall", &model["at_threshold"]["recall"]),
        ("accuracy", &model["at_threshold"]["accuracy"]),
    ];
    for (name, value) in pairs {
        let (a, b) = (value.as_f64().unwrap(), want[name].as_f64().unwrap());
        assert!((a - b).abs() < 5e-4, "{name}: eval {a} vs manifest {b}");
    }
    for k in 1..=10 {
        let (a, b) = (model["auc_at_k"][k - 1].as_f64().unwrap(), want["auc_at_k"][k.to_string()].as_f64().unwrap());
        assert!((a - b).abs() < 5e-4, "AUC@{k}: eval {a} vs manifest {b}");
    }
}

#[test]
fn eval_over_several_seeds_takes_one_model_per_seed() {
    let Some(data) = taobao() else { return };
    let cli = || Command::new(env!("CARGO_BIN_EXE_shopper-intent"));
    // Without a {seed} template, one model cannot be evaluated on several splits.
    let run =
        cli().args(["eval", "--seed", "0,1", "--input"]).arg(&data).arg("--model").arg(root().join("models/intent.json")).output().unwrap();
    assert!(!run.status.success());
    assert!(String::from_utf8_lossy(&run.stderr).contains("{seed}"));
    // With one: here the same weights stand in for two seeds' models (only the mechanics are tested).
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("eval-seeds");
    for s in [0, 1] {
        let d = dir.join(format!("seed{s}"));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::copy(root().join("models/intent.bin"), d.join("intent.bin")).unwrap();
        std::fs::copy(root().join("models/intent.json"), d.join("intent.json")).unwrap();
    }
    let out = dir.join("eval.json");
    let run = cli()
        .args(["eval", "--seed", "0,1", "--bootstrap", "10", "--input"])
        .arg(&data)
        .arg("--model")
        .arg(format!("{}/seed{{seed}}/intent.json", dir.display()))
        .arg("--json")
        .arg(&out)
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(stdout.contains("mean over seeds [0, 1]"), "{stdout}");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let runs = v["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[1]["seed"], 1);
    // Every seed tests the same users (the seeds reshuffle train and validation only).
    assert_eq!(runs[0]["counts"], runs[1]["counts"]);
    // The mean over seeds is the mean of the runs' figures, inside its own interval.
    let mean = &v["mean"];
    assert_eq!(mean["seeds"], serde_json::json!([0, 1]));
    let scorers = mean["scorers"].as_array().unwrap();
    assert_eq!(scorers.len(), runs[0]["figures"].as_array().unwrap().len());
    for (j, s) in scorers.iter().enumerate() {
        let per_seed: Vec<f64> = runs.iter().map(|r| r["figures"][j]["online_auc"]["value"].as_f64().unwrap()).collect();
        let (value, lo, hi) = (s["online_auc"]["value"].as_f64().unwrap(), s["online_auc"]["lo"].as_f64(), s["online_auc"]["hi"].as_f64());
        assert_eq!(s["name"], runs[0]["figures"][j]["name"]);
        assert!((value - (per_seed[0] + per_seed[1]) / 2.0).abs() < 1e-12, "{s}");
        let (lo, hi) = (lo.unwrap(), hi.unwrap());
        assert!(lo <= value + 1e-9 && value <= hi + 1e-9, "{s}");
        // Only a constant scorer (the prior) has no spread: its AUC is one half in every replicate.
        assert!(lo < hi || (s["name"] == "prior" && value == 0.5), "{s}");
        // PR-AUC and session AUC: each run's figure with its interval on the same draws, and their
        // mean over seeds with the interval of the shared draws.
        for (ci, scalar) in [("pr_auc_ci", "pr_auc"), ("session_auc_ci", "session_auc")] {
            let mut per_seed = Vec::new();
            for r in runs {
                let f = &r["figures"][j];
                let e = &f[ci];
                let v = e["value"].as_f64().unwrap();
                assert_eq!(v, f[scalar].as_f64().unwrap(), "{ci} of {f}");
                assert!(e["lo"].as_f64().unwrap() <= e["hi"].as_f64().unwrap(), "{ci} of {f}");
                per_seed.push(v);
            }
            let e = &s[scalar];
            let (value, lo, hi) = (e["value"].as_f64().unwrap(), e["lo"].as_f64().unwrap(), e["hi"].as_f64().unwrap());
            assert!((value - (per_seed[0] + per_seed[1]) / 2.0).abs() < 1e-12, "{scalar} of {s}");
            assert!(lo <= value + 1e-9 && value <= hi + 1e-9, "{scalar} of {s}");
            // The prior's session AUC is one half in every replicate; its PR-AUC, the share of
            // positives drawn, is not constant.
            assert!(lo < hi || (scalar == "session_auc" && s["name"] == "prior" && value == 0.5), "{scalar} of {s}");
        }
    }
    let paired = mean["paired"].as_array().unwrap();
    assert_eq!(paired.len(), scorers.len() - 1);
    let model = scorers[0]["online_auc"]["value"].as_f64().unwrap();
    for (j, p) in paired.iter().enumerate() {
        assert_eq!(p[0], scorers[j + 1]["name"]);
        let d = p[1]["value"].as_f64().unwrap();
        assert!((d - (model - scorers[j + 1]["online_auc"]["value"].as_f64().unwrap())).abs() < 1e-12, "{p}");
    }
}
