//! Unit tests of launch-file checking: every problem with its line.

use super::*;

fn bins() -> Places {
    Places {
        bin_dir: PathBuf::from("/nonexistent"),
        base_dir: PathBuf::from("/nonexistent"),
        path: None,
    }
}

#[test]
fn every_problem_has_its_line() {
    let text = "[[node]]\nkind = \"ml-modle\"\n\n[[node]]\nkind = \"orchestrator\"\nmax_restarts = \"x\"\ncolour = 1\n[[node]]\nkind = \"orchestrator\"\n";
    let problems = parse(text, "m", &bins()).expect_err("problems");
    let lines: Vec<_> = problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, vec![2, 4, 6, 7, 8, 8], "{problems:?}");
    assert!(problems[0].message.contains("ml-modle"));
    assert!(problems[1].message.contains("not found"));
}

#[test]
fn duplicates_and_machines() {
    let text = "[[node]]\nkind = \"orchestrator\"\nmachine = \"b\"\n[[node]]\nkind = \"orchestrator\"\nmachine = \"b\"\nrestart = \"on-failure\"\n";
    let problems = parse(text, "a", &bins()).expect_err("duplicate");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].line, 4);
    assert!(problems[0].message.contains("duplicate"));
}

#[test]
fn machines_give_each_machine_the_others_as_peers() {
    let text = "[[node]]\nkind = \"orchestrator\"\nmachine = \"b\"\n\n[machine.a]\naddress = \"10.0.0.1\"\n[machine.b]\naddress = \"10.0.0.2\"\n[machine.c]\naddress = \"10.0.0.3\"\n";
    let file = parse(text, "a", &bins()).expect("valid");
    let ip = |d| Ipv4Addr::new(10, 0, 0, d);
    assert_eq!(file.peers_of("a"), vec![ip(2), ip(3)]);
    assert_eq!(file.peers_of("c"), vec![ip(1), ip(2)]);
    assert_eq!(file.peers_of("elsewhere"), vec![ip(1), ip(2), ip(3)]);
    assert_eq!(file.machines[1].line, 7);
}

#[test]
fn bad_machines_are_reported_with_their_lines() {
    let text = "[[node]]\nkind = \"orchestrator\"\nmachine = \"b\"\n[machine.a]\naddress = \"10.0.0.300\"\n[machine.b]\nadress = \"10.0.0.2\"\n[machine.c]\naddress = \"127.0.0.1\"\n[machine.d]\naddress = \"10.0.0.9\"\n[machine.e]\naddress = \"10.0.0.9\"\n";
    let problems = parse(text, "a", &bins()).expect_err("problems");
    let lines: Vec<_> = problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, vec![5, 6, 7, 9, 12], "{problems:?}");
    assert!(problems[0].message.contains("not an IPv4 address"));
    assert!(problems[2].message.contains("unknown key `adress`"));
    assert!(problems[3].message.contains("loopback"));
    assert!(problems[4]
        .message
        .contains("address 10.0.0.9 of machine `d`"));
    let problems = parse("machine = 3\n", "a", &bins()).expect_err("problems");
    assert!(
        problems[0].message.contains("[machine.NAME]"),
        "{problems:?}"
    );
}

/// A directory with an executable `run.sh` and a non-executable `data.txt`.
fn programs(tag: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("launch-file-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("work")).expect("dir");
    let run = dir.join("run.sh");
    std::fs::write(&run, "#!/bin/sh\n").expect("write");
    std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    std::fs::write(dir.join("data.txt"), "x").expect("write");
    dir
}

#[test]
fn commands_are_found_in_path_or_beside_the_file() {
    let dir = programs("found");
    let places = Places {
        bin_dir: PathBuf::from("/nonexistent"),
        base_dir: dir.clone(),
        path: Some(dir.clone().into_os_string()),
    };
    let text = "[[node]]\ncommand = [\"run.sh\", \"-v\"]\nargs = [\"--x\"]\n[[node]]\nname = \"b\"\ncommand = [\"./run.sh\"]\ncwd = \"work\"\nrestart = \"always\"\nhealthy_after = 2.5\n";
    let file = parse(text, "m", &places).expect("valid");
    let (a, b) = (&file.nodes[0], &file.nodes[1]);
    assert_eq!(a.name, "run.sh", "the program's file name by default");
    assert_eq!(a.executable.as_deref(), Some(dir.join("run.sh").as_path()));
    assert_eq!(a.argv(), vec!["-v", "--x"]);
    assert_eq!(
        b.executable.as_deref(),
        Some(dir.join("./run.sh").as_path())
    );
    assert_eq!(b.cwd.as_deref(), Some(dir.join("work").as_path()));
    assert_eq!(b.restart, Restart::Always);
    assert_eq!(b.healthy_after, Duration::from_millis(2500));
}

#[test]
fn missing_programs_and_bad_keys_are_named_with_their_lines() {
    let dir = programs("missing");
    let places = Places {
        bin_dir: PathBuf::from("/nonexistent"),
        base_dir: dir.clone(),
        path: Some(dir.clone().into_os_string()),
    };
    let text = "[[node]]\nname = \"a\"\ncommand = [\"no-such-program\"]\n\
[[node]]\nname = \"b\"\ncommand = [\"data.txt\"]\n\
[[node]]\nname = \"c\"\ncommand = [\"./absent\"]\n\
[[node]]\nname = \"d\"\nkind = \"orchestrator\"\ncommand = [\"run.sh\"]\n\
[[node]]\nname = \"e\"\ncommand = []\n\
[[node]]\nname = \"f\"\ncommand = [\"run.sh\"]\nrestart = \"sometimes\"\nhealthy_after = 0\ncwd = \"nowhere\"\n\
[[node]]\nname = \"g\"\n";
    let problems = parse(text, "m", &places).expect_err("problems");
    let said: Vec<_> = problems
        .iter()
        .map(|p| (p.line, p.message.as_str()))
        .collect();
    let has = |line: usize, part: &str| said.iter().any(|(l, m)| *l == line && m.contains(part));
    assert!(
        has(1, "program `no-such-program` not found in PATH"),
        "{said:#?}"
    );
    assert!(
        has(4, "`data.txt`") && has(4, "is not executable"),
        "{said:#?}"
    );
    assert!(has(7, "`./absent`") && has(7, "not found"), "{said:#?}");
    assert!(has(10, "both `kind` and `command`"), "{said:#?}");
    assert!(has(16, "`command` must name a program"), "{said:#?}");
    assert!(
        has(20, "\"never\", \"on-failure\" or \"always\""),
        "{said:#?}"
    );
    assert!(
        has(
            21,
            "`healthy_after` must be a positive number of seconds, not 0"
        ),
        "{said:#?}"
    );
    assert!(has(17, "working directory `nowhere`"), "{said:#?}");
    assert!(has(23, "without `kind` or `command`"), "{said:#?}");
}
