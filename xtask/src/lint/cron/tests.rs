//! Unit tests of the CronJob schedule and time-zone checks, on inline schedules.

use super::*;

fn err(s: &str) -> String {
    check_schedule(s).expect_err(s)
}

#[test]
fn accepts_what_robfig_parse_standard_accepts() {
    for s in [
        "*/10 * * * *",
        "0 3 * * *",
        "0 0 1 1 *",
        "5,35 */2 1-15/3 JAN-jun,Dec mon-FRI",
        "0 0 ? * SUN",
        "0 0 * * ?",
        "? ? ? ? ?",     // robfig takes `?` in any field
        "0 0 1,,15 * *", // empty list items are dropped
        "+5 +1 * * *",   // Go's Atoi takes a sign
        "59 23 31 12 6",
        "0-59/15 0-23 1-31 1-12 0-6",
        "10/20 * * * *",   // 10-59/20
        "  0   4\t* * 1 ", // any whitespace separates fields
        "0 12 * * sat",
        "007 * * * *",
    ] {
        assert_eq!(check_schedule(s), Ok(()), "{s}");
    }
}

#[test]
fn accepts_descriptors() {
    for s in [
        "@yearly",
        "@annually",
        "@monthly",
        "@weekly",
        "@daily",
        "@midnight",
        "@hourly",
        "@every 1h30m",
        "@every 90s",
        "@every 1.5h",
        "@every .5m",
        "@every 0",
        "@every 100ms",
        "@every 3µs",
    ] {
        assert_eq!(check_schedule(s), Ok(()), "{s}");
    }
}

#[test]
fn rejects_unknown_or_malformed_descriptors() {
    assert!(err("@Daily").contains("unknown descriptor `@Daily`"));
    assert!(err("@reboot").contains("unknown descriptor"));
    assert!(err("@daily ").contains("unknown descriptor"));
    assert!(err("@every").contains("unknown descriptor"));
    for d in ["1d", "1h30", "", " 1h", "h", ".h", "1.5.5h", "99999999999h"] {
        let e = err(&format!("@every {d}"));
        assert!(e.starts_with(&format!("`@every {d}`")), "{d}: {e}");
    }
}

#[test]
fn field_count_is_exactly_five() {
    assert_eq!(
        err("* * * *"),
        "expected 5 fields (minute hour day-of-month month day-of-week), found 4"
    );
    assert!(err("0 0 0 * * *").ends_with("found 6"));
    assert!(err(" @daily").ends_with("found 1"));
    assert_eq!(err(""), "the schedule is empty");
    assert!(err("   ").ends_with("found 0"));
}

#[test]
fn out_of_range_values_name_the_field() {
    assert_eq!(
        err("60 * * * *"),
        "field 1 (minute) `60`: 60 is above the maximum 59"
    );
    assert_eq!(
        err("0 24 * * *"),
        "field 2 (hour) `24`: 24 is above the maximum 23"
    );
    assert_eq!(
        err("0 0 0 * *"),
        "field 3 (day of month) `0`: 0 is below the minimum 1"
    );
    assert_eq!(
        err("0 0 32 * *"),
        "field 3 (day of month) `32`: 32 is above the maximum 31"
    );
    assert_eq!(
        err("0 0 * 0 *"),
        "field 4 (month) `0`: 0 is below the minimum 1"
    );
    assert_eq!(
        err("0 0 * 13 *"),
        "field 4 (month) `13`: 13 is above the maximum 12"
    );
    assert_eq!(
        err("0 0 * * 7"),
        "field 5 (day of week) `7`: 7 is above the maximum 6 (Sunday is 0 or SUN; 7 is not accepted)"
    );
    assert!(err("0 0 * * 1-7").starts_with("field 5 (day of week) `1-7`: 7 is above"));
    assert!(err("0 0,70 * * *").starts_with("field 2 (hour) `0,70`: 70 is above"));
}

#[test]
fn malformed_expressions_say_why() {
    assert_eq!(
        err("*/0 * * * *"),
        "field 1 (minute) `*/0`: the step in `*/0` must be a positive number"
    );
    assert!(err("1/2/3 * * * *").contains("too many slashes in `1/2/3`"));
    assert!(err("1-2-3 * * * *").contains("too many hyphens in `1-2-3`"));
    assert!(err("5-1 * * * *").contains("the range `5-1` starts after it ends"));
    assert!(err("a * * * *").contains("`a` is not a number"));
    assert!(err("-5 * * * *").contains("`` is not a number"));
    assert!(err("*/-5 * * * *").contains("`-5` is negative"));
    assert!(err("*/x * * * *").contains("`x` is not a number"));
    assert!(err("0 0 * * MONDAY").contains("(names: SUN MON TUE WED THU FRI SAT)"));
    assert!(err("0 0 * JANUARY *").contains("(names: JAN FEB MAR"));
    assert!(err("0 0 * * 1L").contains("field 5"), "no L/W/# extensions");
    assert!(err("99999999999999999999 * * * *").contains("out of range"));
}

#[test]
fn month_names_belong_to_the_month_field_only() {
    assert!(err("0 0 JAN * *").starts_with("field 3 (day of month)"));
    assert!(err("0 0 * SUN *").starts_with("field 4 (month)"));
    assert!(err("0 0 * * JAN").starts_with("field 5 (day of week)"));
}

#[test]
fn tz_prefixes_are_rejected_as_kubernetes_does() {
    for s in [
        "TZ=UTC 0 3 * * *",
        "CRON_TZ=Europe/Paris 0 3 * * *",
        "0 3 * * * TZ",
    ] {
        assert_eq!(
            err(s),
            "Kubernetes rejects TZ or CRON_TZ in the schedule: set spec.timeZone instead",
            "{s}"
        );
    }
}

#[test]
fn zone_table_is_sorted_unique_and_complete() {
    assert!(zones::ZONES.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(zones::ZONES.len(), 598);
}

#[test]
fn iana_zones_canonical_and_links() {
    for z in [
        "UTC",
        "Etc/UTC",
        "Europe/Kyiv",
        "Europe/Kiev", // backward link
        "America/Argentina/ComodRivadavia",
        "America/Port-au-Prince",
        "US/Pacific",
        "Etc/GMT+5",
        "Etc/GMT-14",
        "GMT0",
        "EST5EDT",
        "Factory",
    ] {
        assert!(is_iana_zone(z), "{z}");
    }
}

#[test]
fn non_zones_are_rejected() {
    for z in [
        "",
        "Local",
        "local",
        "utc",
        "Europe/kyiv",
        "Europe/Atlantis",
        "/UTC",
        "UTC/",
        "Europe//Paris",
        "../etc/passwd",
        "Europe/../UTC",
        "+05:00",
        "Mars/Olympus_Mons",
        "America/Buenos Aires",
    ] {
        assert!(!is_iana_zone(z), "{z:?}");
    }
}

/// robfig quirks, each checked against robfig/cron v3.0.1 itself (see the module docs): the
/// linter must not call a schedule invalid that the API server accepts.
#[test]
fn robfig_quirks_are_mirrored() {
    for s in [
        "*-5 * * * *",   // after `*` the rest of a range is ignored
        "?-x/2 * * * *", // likewise after `?`
        ", * * * *",     // a list with no items
        "*/+5 * * * *",
        "0 0 * * 0-6/7",
        "@every 2562047h",
        "@every -1h",
    ] {
        assert_eq!(check_schedule(s), Ok(()), "{s}");
    }
    assert!(err("-0 * * * *").contains("`` is not a number"));
    assert!(err("@every 2562048h").contains("maximum duration"));
}
