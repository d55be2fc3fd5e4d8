//! Sections 4 and 5: download sizes and the sans-IO core, from scripts/bench.sh's JSON.

use std::fmt::Write as _;
use std::path::Path;

/// `{"name": [raw, gzip], ...}` as written by scripts/bench.sh, as a table.
pub(super) fn sizes_table(json: &str) -> String {
    let mut table = String::from("| artefact | raw | gzip -9 |\n|---|---:|---:|\n");
    for entry in json
        .trim()
        .trim_start_matches('{')
        .trim_end_matches('}')
        .split("],")
    {
        let Some((name, values)) = entry.split_once(':') else {
            continue;
        };
        let numbers: Vec<&str> = values
            .trim()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .split(',')
            .map(str::trim)
            .collect();
        if let [raw, gz] = numbers.as_slice() {
            let _ = writeln!(
                table,
                "| {} | {raw} B | {gz} B |",
                name.trim().trim_matches('"')
            );
        }
    }
    table
}

/// Section 4: the artefacts' sizes (`--sizes-json`).
pub(super) fn sizes_section(md: &mut String, sizes_json: Option<&Path>) {
    let _ = writeln!(md, "\n## 4. Download size\n");
    match sizes_json.and_then(|p| std::fs::read_to_string(p).ok()) {
        Some(text) => {
            let _ = writeln!(md, "{}", sizes_table(&text));
        }
        None => {
            let _ = writeln!(md, "Not measured in this run.");
        }
    }
}

/// Section 5: the sans-IO core's own benchmark (`--core-json`).
pub(super) fn core_section(md: &mut String, core_json: Option<&Path>) {
    let _ = writeln!(
        md,
        "\n## 5. The sans-IO core alone (1 KiB QoS 1 publishes, natively)\n"
    );
    match core_json.and_then(|p| std::fs::read_to_string(p).ok()) {
        Some(text) => {
            let _ = writeln!(
                md,
                "| case | median msg/s | min | max |\n|---|---:|---:|---:|"
            );
            for case in text.split("},{") {
                let field = |name: &str| {
                    case.split(&format!("\"{name}\":"))
                        .nth(1)
                        .map(|v| {
                            v.split([',', '}'])
                                .next()
                                .unwrap_or("")
                                .trim_matches('"')
                                .to_string()
                        })
                        .unwrap_or_default()
                };
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} |",
                    field("case"),
                    field("median"),
                    field("min"),
                    field("max")
                );
            }
        }
        None => {
            let _ = writeln!(md, "Not measured in this run.");
        }
    }
}
