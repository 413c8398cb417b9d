//! Writes the seed corpora of the log-reader fuzz targets (`crate/fuzz/corpus/{jsonl,ga4,taobao,
//! sniffed,event_json}/`) from the project's own fixture and lines written here (the shared
//! data sets are not copied into the repository; `make fuzz` adds samples of them at run time).
//!
//!   cargo run -p shopper-intent-cli --example fuzz_seeds_cli -- crate/fuzz/corpus

use std::path::Path;

fn write(dir: &Path, target: &str, name: &str, text: &str) {
    let d = dir.join(target);
    std::fs::create_dir_all(&d).expect("a corpus folder");
    std::fs::write(d.join(name), text).expect("a seed file");
}

fn main() {
    let out = std::env::args().nth(1).unwrap_or_else(|| "crate/fuzz/corpus".into());
    let out = Path::new(&out);
    let fixture = include_str!("../tests/fixtures/small.jsonl");
    let jsonl = [
        fixture.to_string(),
        r#"{"user": "u", "session": "s1", "ts": 1700000000000, "type": "page_type_3"}
{"user": "u", "session": "s1", "ts": 1700000004000, "type": "page_type_6"}
{"user": "u", "session": "s1", "ts": 1700000005000, "type": "purchase"}"#
            .to_string(),
        r#"{"user": 1, "ts": 1700000000000.7, "type": "Product Added", "item": 12, "price": 9.99, "quantity": 3}"#.to_string(),
        r#"{"user": "x", "ts": 1e30, "type": "view_item", "category": null}
{"user": "x", "ts": "soon", "type": ["view_item"]}
not json at all"#
            .to_string(),
    ];
    let taobao = [
        "1,10,100,pv,1511600000\n1,11,100,cart,1511600010\n1,11,100,buy,1511600020\n2,10,100,fav,1511600100\n",
        "3,1,1,pv,1511600000\r\n3,1,1,pv,-5\n,,,,\n3,1,1,teleport,1511600001\n",
    ];
    for (i, t) in jsonl.iter().enumerate() {
        write(out, "jsonl", &format!("log-{i}.jsonl"), t);
        write(out, "sniffed", &format!("jsonl-{i}"), t);
        write(out, "event_json", &format!("lines-{i}"), t);
    }
    for (i, t) in taobao.iter().enumerate() {
        write(out, "taobao", &format!("log-{i}.csv"), t);
        write(out, "sniffed", &format!("taobao-{i}"), t);
    }
    let ga4 = [
        include_str!("../tests/fixtures/ga4-export.jsonl").to_string(),
        r#"{"event_name": "add_to_cart", "event_timestamp": 1700000000000000, "user_pseudo_id": 12.5, "event_params": [{"key": "ga_session_id", "value": {"int_value": 17, "string_value": null}}], "items": [{"item_id": 7, "price": "9.5", "quantity": "2"}, {"quantity": 1.6}, 3]}
{"event_name": "session_start", "event_timestamp": "1700000000000001", "user_pseudo_id": "1.2"}
{"event_name": "purchase", "event_timestamp": "-5", "user_id": "c-1", "items": {"item_id": "x"}}"#
            .to_string(),
    ];
    for (i, t) in ga4.iter().enumerate() {
        write(out, "ga4", &format!("export-{i}.jsonl"), t);
        write(out, "sniffed", &format!("ga4-{i}"), t);
    }
    write(out, "sniffed", "rees46", "event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session\n2019-10-01 00:00:00 UTC,view,1,2,,b,3.5,4,s\n");
    println!("seed corpora written to {}", out.display());
}
