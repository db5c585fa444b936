//! A hunt's answer as record batches: findings, campaigns, coverage, movement edges and the
//! seed query's rows (the tables are documented in the module above).

use std::sync::Arc;

use arrow_schema::SchemaRef;
use jiff::Timestamp;

use super::Converted;
use super::columns::{
    Columns, boolean, int64, list, nanos, serde_name, timestamps, utf8, utf8_lists,
};
use crate::emit::graph::Edge;
use crate::event::{Locator, UserRef};
use crate::kql::KqlRow;
use crate::lifecycle::Role;
use crate::read::Warning;
use crate::report::{Campaign, Coverage, Finding};

/// Collects the warnings for times that do not fit, each located at what it belongs to.
#[derive(Default)]
struct Times {
    warnings: Vec<Warning>,
}

impl Times {
    fn column(
        &mut self,
        rows: impl IntoIterator<Item = (Option<Timestamp>, Warning)>,
        what: &str,
    ) -> arrow_array::ArrayRef {
        timestamps(rows.into_iter().map(|(t, place)| {
            let t = t?;
            let ns = nanos(t);
            if ns.is_none() {
                self.warnings.push(Warning {
                    message: format!(
                        "{what} {t} is outside what Arrow's nanosecond timestamps hold (1677-09-21 to 2262-04-11); written as null"
                    ),
                    ..place
                });
            }
            ns
        }))
    }
}

fn place(file: &Arc<str>, location: String) -> Warning {
    Warning {
        file: file.clone(),
        location,
        message: String::new(),
    }
}

/// Where a finding is told from: its installing event.
fn finding_place(f: &Finding) -> Warning {
    let installed = f
        .evidence
        .iter()
        .find(|e| e.role == Role::Installed)
        .or(f.evidence.first());
    match installed {
        Some(e) => place(&e.file, e.locator.to_string()),
        None => place(
            &Arc::from(f.computer.as_str()),
            format!("service {}", f.service_name),
        ),
    }
}

fn user_struct<'a>(users: impl Iterator<Item = &'a UserRef> + Clone) -> arrow_array::ArrayRef {
    let mut c = Columns::default();
    c.add("sid", utf8(users.clone().map(|u| u.sid.as_deref())), true)
        .add("name", utf8(users.map(|u| u.name.as_deref())), true);
    c.into_struct(None)
}

fn locator_struct(locators: &[Locator]) -> arrow_array::ArrayRef {
    let mut c = Columns::default();
    c.add(
        "kind",
        utf8(locators.iter().map(|l| {
            Some(match l {
                Locator::Record(_) => "record",
                Locator::Line(_) => "line",
                Locator::Row(_) => "row",
            })
        })),
        false,
    )
    .add(
        "at",
        int64(locators.iter().map(|l| {
            let (Locator::Record(n) | Locator::Line(n) | Locator::Row(n)) = *l;
            i64::try_from(n).ok()
        })),
        true,
    );
    c.into_struct(None)
}

/// The findings table's schema.
pub fn findings_schema() -> SchemaRef {
    findings_to_batch(&[]).batch.schema()
}

/// `findings` as one batch, in their order.
pub fn findings_to_batch(findings: &[Finding]) -> Converted {
    let mut times = Times::default();
    let f = findings;
    let text = |get: fn(&Finding) -> Option<&str>| utf8(f.iter().map(get));

    let created = times.column(
        f.iter().map(|x| (Some(x.created), finding_place(x))),
        "creation time",
    );
    let deleted = times.column(
        f.iter().map(|x| (x.deleted, finding_place(x))),
        "removal time",
    );

    // source: null when the logs say nothing of where the install came from.
    let default_source = crate::report::Source {
        logon_id: None,
        logon_type: None,
        ip: None,
        workstation: None,
        auth: None,
        logon_time: None,
        client_host: None,
        pipes: Vec::new(),
        files_written: Vec::new(),
    };
    let sources: Vec<&crate::report::Source> = f
        .iter()
        .map(|x| x.source.as_ref().unwrap_or(&default_source))
        .collect();
    let stext =
        |get: fn(&crate::report::Source) -> Option<&str>| utf8(sources.iter().map(|s| get(s)));
    let mut source = Columns::default();
    source
        .add("logon_id", stext(|s| s.logon_id.as_deref()), true)
        .add(
            "logon_type",
            int64(sources.iter().map(|s| s.logon_type.map(i64::from))),
            true,
        )
        .add("ip", stext(|s| s.ip.as_deref()), true)
        .add("workstation", stext(|s| s.workstation.as_deref()), true)
        .add("auth", stext(|s| s.auth.as_deref()), true)
        .add(
            "logon_time",
            times.column(
                f.iter()
                    .zip(&sources)
                    .map(|(x, s)| (s.logon_time, finding_place(x))),
                "logon time",
            ),
            true,
        )
        .add("client_host", stext(|s| s.client_host.as_deref()), true)
        .add(
            "pipes",
            utf8_lists(sources.iter().map(|s| s.pipes.as_slice())),
            false,
        )
        .add(
            "files_written",
            utf8_lists(sources.iter().map(|s| s.files_written.as_slice())),
            false,
        );
    let source = source.into_struct(Some(f.iter().map(|x| x.source.is_some()).collect()));

    let evidence: Vec<&crate::report::Evidence> = f.iter().flat_map(|x| &x.evidence).collect();
    let locators: Vec<Locator> = evidence.iter().map(|e| e.locator).collect();
    let mut ev = Columns::default();
    ev.add(
        "event_id",
        int64(evidence.iter().map(|e| Some(i64::from(e.event_id)))),
        false,
    )
    .add(
        "time",
        times.column(
            evidence
                .iter()
                .map(|e| (Some(e.time), place(&e.file, e.locator.to_string()))),
            "evidence time",
        ),
        true,
    )
    .add("file", utf8(evidence.iter().map(|e| Some(&*e.file))), false)
    .add(
        "record_id",
        int64(
            evidence
                .iter()
                .map(|e| e.record_id.and_then(|n| i64::try_from(n).ok())),
        ),
        true,
    )
    .add("locator", locator_struct(&locators), false)
    .add(
        "role",
        utf8(
            evidence
                .iter()
                .map(|e| e.role)
                .map(|r| serde_name(&r))
                .collect::<Vec<_>>()
                .iter()
                .map(|s| Some(s.as_str())),
        ),
        false,
    )
    .add(
        "detail",
        utf8(evidence.iter().map(|e| Some(e.detail.as_str()))),
        false,
    );
    let evidence_lengths: Vec<usize> = f.iter().map(|x| x.evidence.len()).collect();

    let deletion: Vec<Option<String>> = f
        .iter()
        .map(|x| x.deletion_evidence.map(|r| serde_name(&r)))
        .collect();

    // reconfiguration: null for a creation.
    let empty = crate::report::Reconfiguration {
        original_image_path: String::new(),
        temporary_image_paths: Vec::new(),
        restored: Timestamp::UNIX_EPOCH,
        start_type_changes: Vec::new(),
    };
    let reconf: Vec<&crate::report::Reconfiguration> = f
        .iter()
        .map(|x| x.reconfiguration.as_ref().unwrap_or(&empty))
        .collect();
    let mut reconfiguration = Columns::default();
    reconfiguration
        .add(
            "original_image_path",
            utf8(reconf.iter().map(|r| Some(r.original_image_path.as_str()))),
            false,
        )
        .add(
            "temporary_image_paths",
            utf8_lists(reconf.iter().map(|r| r.temporary_image_paths.as_slice())),
            false,
        )
        .add(
            "restored",
            times.column(
                f.iter().map(|x| {
                    (
                        x.reconfiguration.as_ref().map(|r| r.restored),
                        finding_place(x),
                    )
                }),
                "restoration time",
            ),
            true,
        )
        .add(
            "start_type_changes",
            utf8_lists(reconf.iter().map(|r| r.start_type_changes.as_slice())),
            false,
        );
    let reconfiguration = reconfiguration.into_struct(Some(
        f.iter().map(|x| x.reconfiguration.is_some()).collect(),
    ));

    let mut c = Columns::default();
    c.add("kind", text(|x| Some(x.kind.as_str())), false)
        .add("computer", text(|x| Some(&x.computer)), false)
        .add("service_name", text(|x| Some(&x.service_name)), false)
        .add("display_name", text(|x| x.display_name.as_deref()), true)
        .add("image_path", text(|x| Some(&x.image_path)), false)
        .add("service_type", text(|x| x.service_type.as_deref()), true)
        .add("start_type", text(|x| x.start_type.as_deref()), true)
        .add(
            "service_account",
            text(|x| x.service_account.as_deref()),
            true,
        )
        .add("created", created, true)
        .add("deleted", deleted, true)
        .add(
            "deletion_evidence",
            utf8(deletion.iter().map(Option::as_deref)),
            true,
        )
        .add("lifetime_ms", int64(f.iter().map(|x| x.lifetime_ms)), true)
        .add("verdict", text(|x| Some(x.verdict.as_str())), false)
        .add(
            "verdict_reasons",
            utf8_lists(f.iter().map(|x| x.verdict_reasons.as_slice())),
            false,
        )
        .add("tool", text(|x| Some(x.tool.as_str())), false)
        .add(
            "tool_reasons",
            utf8_lists(f.iter().map(|x| x.tool_reasons.as_slice())),
            false,
        )
        .add(
            "tool_confidence",
            text(|x| x.tool_confidence.map(|c| c.as_str())),
            true,
        )
        .add("command", text(|x| x.command.as_deref()), true)
        .add("campaign", text(|x| x.campaign.as_deref()), true)
        .add("user", user_struct(f.iter().map(|x| &x.user)), false)
        .add("source", source, true)
        .add(
            "evidence",
            list(ev.into_struct(None), &evidence_lengths),
            false,
        )
        .add("reconfiguration", reconfiguration, true);
    Converted {
        batch: c.batch(f.len()),
        warnings: times.warnings,
    }
}

/// `campaigns` as one batch.
pub fn campaigns_to_batch(campaigns: &[Campaign]) -> Converted {
    let mut times = Times::default();
    let at = |c: &Campaign| {
        place(
            &Arc::from(c.computer.as_str()),
            format!("campaign {}", c.id),
        )
    };
    let mut c = Columns::default();
    c.add(
        "id",
        utf8(campaigns.iter().map(|x| Some(x.id.as_str()))),
        false,
    )
    .add(
        "computer",
        utf8(campaigns.iter().map(|x| Some(x.computer.as_str()))),
        false,
    )
    .add(
        "size",
        int64(campaigns.iter().map(|x| i64::try_from(x.size).ok())),
        false,
    )
    .add(
        "first",
        times.column(
            campaigns.iter().map(|x| (Some(x.first), at(x))),
            "campaign start",
        ),
        true,
    )
    .add(
        "last",
        times.column(
            campaigns.iter().map(|x| (Some(x.last), at(x))),
            "campaign end",
        ),
        true,
    )
    .add(
        "tool",
        utf8(campaigns.iter().map(|x| Some(x.tool.as_str()))),
        false,
    )
    .add(
        "user",
        user_struct(campaigns.iter().map(|x| &x.user)),
        false,
    )
    .add(
        "payload",
        utf8(campaigns.iter().map(|x| x.payload.as_deref())),
        true,
    );
    Converted {
        batch: c.batch(campaigns.len()),
        warnings: times.warnings,
    }
}

/// Each host's audit coverage as one batch.
pub fn coverage_to_batch(coverage: &[Coverage]) -> Converted {
    let flag = |get: fn(&Coverage) -> bool| boolean(coverage.iter().map(get));
    let mut c = Columns::default();
    c.add(
        "computer",
        utf8(coverage.iter().map(|x| Some(x.computer.as_str()))),
        false,
    )
    .add("system_log", flag(|x| x.system_log), false)
    .add("security_log", flag(|x| x.security_log), false)
    .add("installs_7045", flag(|x| x.installs_7045), false)
    .add("installs_4697", flag(|x| x.installs_4697), false)
    .add(
        "privileged_ops_4674",
        flag(|x| x.privileged_ops_4674),
        false,
    )
    .add("state_changes_7036", flag(|x| x.state_changes_7036), false)
    .add("logons_4624", flag(|x| x.logons_4624), false)
    .add(
        "share_access_5140_5145",
        flag(|x| x.share_access_5140_5145),
        false,
    )
    .add("sysmon", flag(|x| x.sysmon), false);
    Converted {
        batch: c.batch(coverage.len()),
        warnings: Vec::new(),
    }
}

/// Movement edges ([`crate::emit::graph::edges`]) as one batch.
pub fn edges_to_batch(edges: &[Edge]) -> Converted {
    let mut times = Times::default();
    let at = |e: &Edge| {
        place(
            &Arc::from(e.target.as_str()),
            format!("edge from {}", e.source),
        )
    };
    let mut c = Columns::default();
    c.add(
        "source",
        utf8(edges.iter().map(|x| Some(x.source.as_str()))),
        false,
    )
    .add(
        "source_hosts",
        utf8_lists(edges.iter().map(|x| x.source_hosts.as_slice())),
        false,
    )
    .add(
        "target",
        utf8(edges.iter().map(|x| Some(x.target.as_str()))),
        false,
    )
    .add(
        "accounts",
        utf8_lists(edges.iter().map(|x| x.accounts.as_slice())),
        false,
    )
    .add(
        "tools",
        utf8_lists(edges.iter().map(|x| x.tools.as_slice())),
        false,
    )
    .add(
        "first",
        times.column(
            edges.iter().map(|x| (Some(x.first), at(x))),
            "first execution",
        ),
        true,
    )
    .add(
        "last",
        times.column(
            edges.iter().map(|x| (Some(x.last), at(x))),
            "last execution",
        ),
        true,
    )
    .add(
        "count",
        int64(edges.iter().map(|x| i64::try_from(x.count).ok())),
        false,
    );
    Converted {
        batch: c.batch(edges.len()),
        warnings: times.warnings,
    }
}

/// The seed query's rows as one batch, with the seed's column names.
pub fn kql_rows_to_batch(rows: &[KqlRow]) -> Converted {
    let mut times = Times::default();
    let at = |o: &crate::event::Origin| place(&o.file, o.locator.to_string());
    let mut c = Columns::default();
    c.add(
        "SourceTime",
        times.column(
            rows.iter()
                .map(|r| (Some(r.source_time), at(&r.source_origin))),
            "7045 time",
        ),
        true,
    )
    .add(
        "SourceEventID",
        int64(rows.iter().map(|r| Some(i64::from(r.source_event_id)))),
        false,
    )
    .add(
        "TargetTime",
        times.column(
            rows.iter()
                .map(|r| (Some(r.target_time), at(&r.target_origin))),
            "4674 time",
        ),
        true,
    )
    .add(
        "TargetEventID",
        int64(rows.iter().map(|r| Some(i64::from(r.target_event_id)))),
        false,
    )
    .add(
        "Computer",
        utf8(rows.iter().map(|r| Some(r.computer.as_str()))),
        false,
    )
    .add(
        "UserName",
        utf8(rows.iter().map(|r| Some(r.user_name.as_str()))),
        false,
    )
    .add(
        "InstalledService",
        utf8(rows.iter().map(|r| Some(r.installed_service.as_str()))),
        false,
    )
    .add(
        "Exe",
        utf8(rows.iter().map(|r| Some(r.exe.as_str()))),
        false,
    );
    Converted {
        batch: c.batch(rows.len()),
        warnings: times.warnings,
    }
}
