//! A Galera cluster: writers on every node at once. Runs when
//! `MILLY_TEST_GALERA_URLS` lists the nodes' URLs (space-separated, as
//! `scripts/galera.sh up` prints them); reported as ignored otherwise.
//!
//! One test kills a node (SIGKILL, `scripts/galera.sh kill 3`) and brings
//! it back: it holds [`CLUSTER`] for writing, every other test for reading,
//! so none of them runs while a node is down.

use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::RwLock;
use std::thread;
use std::time::{Duration, Instant};

use mysql::prelude::Queryable;

use crate::harness::{Run, LATEST, MILLY};

struct Cluster {
    /// One URL per node, all naming this test's database.
    nodes: Vec<String>,
    admin: String,
    name: String,
}

/// Taken for reading by every test on the cluster, for writing by the one
/// that kills a node.
static CLUSTER: RwLock<()> = RwLock::new(());

impl Cluster {
    fn new() -> Option<Cluster> {
        let urls = std::env::var("MILLY_TEST_GALERA_URLS").ok()?;
        let urls: Vec<&str> = urls.split_whitespace().collect();
        if urls.is_empty() {
            return None;
        }
        let name = format!("milly_gt_{:016x}", rand::random::<u64>());
        let admin = urls[0].to_owned();
        conn(&admin)
            .query_drop(format!("CREATE DATABASE `{name}`"))
            .unwrap();
        // The other nodes apply the CREATE DATABASE a moment later: a
        // causal read on each waits for it, so no milly meets a node that
        // does not know the database yet.
        for url in &urls {
            let mut c = conn(url);
            c.query_drop("SET SESSION wsrep_sync_wait = 15").unwrap();
            let known: Option<String> = c
                .exec_first(
                    "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
                    (&name,),
                )
                .unwrap();
            assert_eq!(known.as_deref(), Some(name.as_str()), "{url}");
        }
        let nodes = urls
            .iter()
            .map(|u| format!("{}/{name}", u.rsplit_once('/').unwrap().0))
            .collect();
        Some(Cluster { nodes, admin, name })
    }

    fn run(&self, node: usize, args: &[&str]) -> Run {
        self.run_with_input(node, args, None)
    }

    fn run_with_input(&self, node: usize, args: &[&str], stdin: Option<&str>) -> Run {
        use std::io::Write;
        use std::process::Stdio;
        let home = tempfile::tempdir().unwrap();
        let mut child = Command::new(MILLY)
            .env_clear()
            .env("HOME", home.path())
            .env("MILLY_DATABASE_URL", &self.nodes[node % self.nodes.len()])
            // Room for a view change while a node leaves or joins.
            .env("MILLY_LOCK_TIMEOUT_MS", "20000")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).unwrap();
        }
        drop(input);
        let output = child.wait_with_output().unwrap();
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// One row of integers, read on `node` once it has applied every write
    /// the cluster committed before (causal read).
    fn ints(&self, node: usize, sql: &str) -> Vec<i64> {
        let mut c = conn(&self.nodes[node]);
        c.query_drop("SET SESSION wsrep_sync_wait = 1").unwrap();
        let row: mysql::Row = c.query_first(sql).unwrap().unwrap();
        (0..row.len())
            .map(|i| row.get::<Option<i64>, _>(i).unwrap().unwrap_or(0))
            .collect()
    }

    /// Every row of a one-column query, as text, read causally on `node`.
    fn strings(&self, node: usize, sql: &str) -> Vec<String> {
        let mut c = conn(&self.nodes[node]);
        c.query_drop("SET SESSION wsrep_sync_wait = 1").unwrap();
        c.query(sql).unwrap()
    }

    /// The ledger checks `stock verify` makes, through SQL on `node`:
    /// versions 1..n contiguous per product, every total the previous total
    /// plus the change, none negative. Returns the whole ledger as text, to
    /// compare nodes.
    fn checked_ledger(&self, node: usize) -> Vec<String> {
        let problems = self.ints(
            node,
            "SELECT
               (SELECT COUNT(*) FROM (SELECT product_id FROM stock_events GROUP BY product_id
                                      HAVING MIN(version) <> 1 OR MAX(version) <> COUNT(*)
                                          OR COUNT(DISTINCT version) <> COUNT(*)) v),
               (SELECT COUNT(*) FROM stock_events e JOIN stock_events p
                  ON p.product_id = e.product_id AND p.version = e.version - 1
                WHERE e.total_after_change <> p.total_after_change + e.`change`),
               (SELECT COUNT(*) FROM stock_events WHERE version = 1 AND total_after_change <> `change`),
               (SELECT COUNT(*) FROM stock_events WHERE total_after_change < 0)",
        );
        assert_eq!(problems, [0, 0, 0, 0], "ledger problems on node {node}");
        self.strings(
            node,
            "SELECT CONCAT_WS(' ', id, product_id, version, `change`, total_after_change)
               FROM stock_events ORDER BY product_id, version",
        )
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = conn(&self.admin).query_drop(format!("DROP DATABASE `{}`", self.name));
    }
}

fn conn(url: &str) -> mysql::Conn {
    mysql::Conn::new(mysql::Opts::from_url(url).unwrap()).unwrap()
}

/// Runs `each` commands from each of `writers` threads, writer `w` on node
/// `w % nodes`; returns every run.
fn writers(cluster: &Cluster, writers: usize, each: usize, args: &[&str]) -> Vec<Run> {
    thread::scope(|s| {
        let handles: Vec<_> = (0..writers)
            .map(|w| s.spawn(move || (0..each).map(|_| cluster.run(w, args)).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    })
}

fn galera_product_create_on_every_node_at_once_all_succeed_with_dense_positions() {
    let _shared = CLUSTER.read().unwrap_or_else(|e| e.into_inner());
    let Some(cluster) = Cluster::new() else {
        return;
    };
    cluster.run(0, &["db", "migrate"]).expect(0);
    let runs = writers(
        &cluster,
        6,
        30,
        &["--json", "product", "create", "--name", "N", "--price", "1"],
    );
    for run in runs {
        run.expect(0);
    }
    for node in 0..cluster.nodes.len() {
        assert_eq!(
            cluster.ints(
                node,
                "SELECT COUNT(*), COUNT(DISTINCT seq), MAX(seq) FROM products"
            ),
            [180, 180, 180],
            "node {node}"
        );
        assert_eq!(
            cluster.ints(node, "SELECT COUNT(*) FROM stock_events"),
            [180]
        );
    }
}

fn galera_stock_adjust_on_every_node_at_once_keeps_the_ledger_contiguous() {
    let _shared = CLUSTER.read().unwrap_or_else(|e| e.into_inner());
    let Some(cluster) = Cluster::new() else {
        return;
    };
    let created = cluster
        .run(
            0,
            &["--json", "product", "create", "--name", "S", "--price", "1"],
        )
        .expect(0)
        .json();
    let id = created["id"].as_str().unwrap().to_owned();
    let runs = writers(
        &cluster,
        6,
        20,
        &["--json", "stock", "adjust", &id, "--change", "+1"],
    );
    for run in runs {
        run.expect(0);
    }
    for node in 0..cluster.nodes.len() {
        assert_eq!(
            cluster.ints(
                node,
                "SELECT COUNT(*), MAX(version), MAX(total_after_change) FROM stock_events"
            ),
            [121, 121, 120],
            "node {node}"
        );
    }
}

/// Processes using an empty database for the first time, 4 per node at
/// once: every one succeeds, and every node has one complete schema.
fn galera_concurrent_first_use_across_all_nodes_yields_one_complete_schema() {
    let _shared = CLUSTER.read().unwrap_or_else(|e| e.into_inner());
    let Some(cluster) = Cluster::new() else {
        return;
    };
    let runs = writers(
        &cluster,
        12,
        1,
        &[
            "--json", "product", "create", "--name", "First", "--price", "1",
        ],
    );
    for run in runs {
        run.expect(0);
    }
    let versions: Vec<String> = (1..=LATEST).map(|v| v.to_string()).collect();
    for node in 0..cluster.nodes.len() {
        assert_eq!(
            cluster.strings(
                node,
                "SELECT CAST(version AS CHAR) FROM milly_migrations ORDER BY version"
            ),
            versions,
            "node {node}: every version recorded once"
        );
        let mut tables = cluster.strings(
            node,
            &format!(
                "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{}' ORDER BY TABLE_NAME",
                cluster.name
            ),
        );
        tables.sort();
        assert_eq!(
            tables,
            [
                "coupons",
                "discounts",
                "idempotency_keys",
                "milly_locks",
                "milly_migration_lease",
                "milly_migrations",
                "product_changes",
                "product_name_trigrams",
                "products",
                "stock_events"
            ],
            "node {node}"
        );
        assert_eq!(cluster.ints(node, "SELECT COUNT(*) FROM products"), [12]);
        assert_eq!(
            cluster.ints(node, "SELECT COUNT(*) FROM milly_migration_lease"),
            [0],
            "the lease was released"
        );
    }
    cluster.checked_ledger(0);
}

/// Writers on every node at once, each running every kind of write in
/// turn: every command succeeds and every row is there, on every node.
fn galera_every_write_command_on_every_node_at_once_all_succeed() {
    let _shared = CLUSTER.read().unwrap_or_else(|e| e.into_inner());
    let Some(cluster) = Cluster::new() else {
        return;
    };
    let shared = cluster
        .run(
            0,
            &[
                "--json", "product", "create", "--name", "Shared", "--price", "10", "--stock",
                "1000",
            ],
        )
        .expect(0)
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("products.csv");
    std::fs::write(&file, "name,price,stock\nA,1,1\nB,2,2\nC,3,3\n").unwrap();
    let file = file.to_str().unwrap();
    const WRITERS: usize = 6;
    const ROUNDS: usize = 8;
    let runs: Vec<(String, Run)> = thread::scope(|s| {
        let handles: Vec<_> =
            (0..WRITERS)
                .map(|w| {
                    let (cluster, shared) = (&cluster, &shared);
                    s.spawn(move || {
                        let mut runs = Vec::new();
                        let user = format!("user{w}");
                        for round in 0..ROUNDS {
                            let code = format!("W{w}R{round}");
                            let commands: Vec<(Vec<&str>, Option<&str>)> =
                                vec![
                            (vec!["product", "create", "--name", "N", "--price", "1"], None),
                            (vec!["stock", "adjust", shared, "--change", "-1"], None),
                            (vec!["discount", "set", shared, "--percent", "10"], None),
                            (
                                vec![
                                    "coupon", "create", "--user", &user, "--percent", "5",
                                    "--valid-to", "2030-01-01", "--code", &code,
                                ],
                                None,
                            ),
                            (vec!["import", "products", file], None),
                            (
                                vec!["import", "coupons"],
                                Some("user,percent,valid_to\nu,5,2030-01-01\nv,6,2030-01-01\n"),
                            ),
                        ];
                            for (args, stdin) in commands {
                                let run = cluster.run_with_input(w, &args, stdin);
                                runs.push((args.join(" "), run));
                            }
                        }
                        runs
                    })
                })
                .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let commands = runs.len();
    for (args, run) in runs {
        assert_eq!(run.code, 0, "{args}: {run:?}");
    }
    let n = (WRITERS * ROUNDS) as i64;
    for node in 0..cluster.nodes.len() {
        assert_eq!(
            cluster.ints(
                node,
                "SELECT COUNT(*), COUNT(DISTINCT seq), MAX(seq) FROM products"
            ),
            [1 + n + 3 * n, 1 + n + 3 * n, 1 + n + 3 * n],
            "node {node}: every product, dense positions"
        );
        // Each set cut or cancelled the one before it (real clocks here):
        // one discount is running now.
        assert_eq!(
            cluster.ints(
                node,
                "SELECT COUNT(*), SUM(is_active = 1 AND valid_from <= UTC_TIMESTAMP(6) \
                 AND valid_to > UTC_TIMESTAMP(6)) FROM discounts"
            ),
            [n, 1],
            "node {node}: one discount running"
        );
        assert_eq!(cluster.ints(node, "SELECT COUNT(*) FROM coupons"), [3 * n]);
        assert_eq!(
            cluster.ints(
                node,
                &format!("SELECT MAX(version), MIN(total_after_change) FROM stock_events WHERE product_id = '{shared}'")
            ),
            [1 + n, 1000 - n]
        );
    }
    let ledger = cluster.checked_ledger(0);
    for node in 1..cluster.nodes.len() {
        assert_eq!(cluster.checked_ledger(node), ledger, "node {node}");
    }
    println!("galera: {WRITERS} writers x 3 nodes, {commands} commands, 0 failures");
}

/// One coupon code, created on every node at once: one process creates it,
/// every other one is told the code is taken (exit 4), never a conflict;
/// then deactivating it on every node at once succeeds everywhere.
fn galera_one_coupon_code_on_every_node_at_once() {
    let _shared = CLUSTER.read().unwrap_or_else(|e| e.into_inner());
    let Some(cluster) = Cluster::new() else {
        return;
    };
    cluster.run(0, &["db", "migrate"]).expect(0);
    for round in 0..5 {
        let code = format!("SAME{round}");
        let runs = writers(
            &cluster,
            9,
            1,
            &[
                "--json",
                "coupon",
                "create",
                "--user",
                "u",
                "--percent",
                "5",
                "--valid-to",
                "2030-01-01",
                "--code",
                &code,
            ],
        );
        let created = runs.iter().filter(|r| r.code == 0).count();
        assert_eq!(created, 1, "{runs:#?}");
        for run in runs.into_iter().filter(|r| r.code != 0) {
            let run = run.expect(4);
            assert!(
                run.stderr.contains("\"code\":\"duplicate_coupon_code\""),
                "{run:?}"
            );
        }
        for run in writers(&cluster, 9, 1, &["--json", "coupon", "deactivate", &code]) {
            assert_eq!(run.expect(0).json()["is_active"], false);
        }
    }
    for node in 0..cluster.nodes.len() {
        assert_eq!(
            cluster.ints(node, "SELECT COUNT(*), SUM(is_active) FROM coupons"),
            [5, 0],
            "node {node}"
        );
    }
}

/// One idempotency key, used by processes on every node at once: one
/// write, one result printed by all.
fn galera_one_idempotency_key_on_every_node_writes_once() {
    let _shared = CLUSTER.read().unwrap_or_else(|e| e.into_inner());
    let Some(cluster) = Cluster::new() else {
        return;
    };
    let id = cluster
        .run(
            0,
            &["--json", "product", "create", "--name", "K", "--price", "1"],
        )
        .expect(0)
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let runs = writers(
        &cluster,
        9,
        1,
        &[
            "--idempotency-key",
            "restock:1",
            "--json",
            "stock",
            "adjust",
            &id,
            "--change",
            "+5",
        ],
    );
    let first = runs[0].stdout.clone();
    for run in runs {
        assert_eq!(run.expect(0).stdout, first);
    }
    for node in 0..cluster.nodes.len() {
        assert_eq!(
            cluster.ints(
                node,
                "SELECT COUNT(*), MAX(total_after_change) FROM stock_events"
            ),
            [2, 5],
            "node {node}"
        );
    }
}

/// A read on one node sees what another node committed just before, even
/// while that node lags: node 3 is held behind a global read lock, which
/// stops it applying the cluster's writes, when a product is created through
/// node 1. A plain read on node 3 would not find it (exit 3); milly's
/// session reads causally, so `product show` waits until node 3 has applied
/// the creation, and finds it once the lock is released.
fn galera_a_read_on_a_lagging_node_waits_for_what_the_cluster_committed() {
    let _exclusive = CLUSTER.write().unwrap_or_else(|e| e.into_inner());
    let Some(cluster) = Cluster::new() else {
        return;
    };
    cluster.run(0, &["db", "migrate"]).expect(0);
    let lagging = cluster.nodes.len() - 1;
    let mut holder = conn(&cluster.nodes[lagging]);
    holder.query_drop("FLUSH TABLES WITH READ LOCK").unwrap();
    let id = cluster
        .run(
            0,
            &[
                "--json", "product", "create", "--name", "Causal", "--price", "1",
            ],
        )
        .expect(0)
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let held = Duration::from_millis(800);
    let shown = thread::scope(|s| {
        let show = s.spawn(|| {
            let started = Instant::now();
            let run = cluster.run(lagging, &["--json", "product", "show", &id]);
            (run, started.elapsed())
        });
        thread::sleep(held);
        holder.query_drop("UNLOCK TABLES").unwrap();
        show.join().unwrap()
    });
    let (run, waited) = shown;
    assert_eq!(run.expect(0).json()["id"], id.as_str());
    assert!(
        waited >= held / 2,
        "the read did not wait for node {} to catch up ({waited:?})",
        lagging + 1
    );
}

/// A node is killed (SIGKILL) while writers run on every node: the writers
/// on that node get exit 6, the others carry on. Every write carries a key,
/// so the failed ones are rerun safely once the node is back; then every
/// node shows the same, consistent ledger, with every change exactly once.
fn galera_a_node_killed_while_writers_run() {
    let _exclusive = CLUSTER.write().unwrap_or_else(|e| e.into_inner());
    let Some(cluster) = Cluster::new() else {
        return;
    };
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/galera.sh");
    let id = cluster
        .run(
            0,
            &[
                "--json", "product", "create", "--name", "Killed", "--price", "1", "--stock", "0",
            ],
        )
        .expect(0)
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    const WRITERS: usize = 6;
    let stop = AtomicBool::new(false);
    let victim = cluster.nodes.len() - 1;
    let runs: Vec<(usize, String, Run)> = thread::scope(|s| {
        let handles: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (cluster, id, stop) = (&cluster, &id, &stop);
                s.spawn(move || {
                    let mut runs = Vec::new();
                    let mut i = 0;
                    while !stop.load(Ordering::SeqCst) {
                        i += 1;
                        let key = format!("w{w}:{i}");
                        let run = cluster.run(
                            w,
                            &[
                                "--idempotency-key",
                                &key,
                                "--json",
                                "stock",
                                "adjust",
                                id,
                                "--change",
                                "+1",
                            ],
                        );
                        let failed = run.code != 0;
                        runs.push((w % cluster.nodes.len(), key, run));
                        // A cron job whose run failed waits for its next turn.
                        if failed {
                            break;
                        }
                    }
                    runs
                })
            })
            .collect();
        thread::sleep(Duration::from_millis(1500));
        let killed = Command::new(script)
            .args(["kill", &(victim + 1).to_string()])
            .output()
            .unwrap();
        assert!(killed.status.success(), "{killed:?}");
        thread::sleep(Duration::from_millis(2500));
        stop.store(true, Ordering::SeqCst);
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let started = Instant::now();
    let up = Command::new(script).arg("up").output().unwrap();
    assert!(up.status.success(), "{up:?}");
    let rejoined = started.elapsed();

    let mut failed = Vec::new();
    for (node, key, run) in &runs {
        if *node == victim && run.code != 0 {
            assert_eq!(run.code, 6, "{run:?}");
            failed.push(key.clone());
        } else {
            assert_eq!(run.code, 0, "node {node}: {run:?}");
        }
    }
    assert!(!failed.is_empty(), "the writers on the killed node failed");
    let applied_before_reruns = cluster.ints(0, "SELECT COUNT(*) FROM stock_events")[0] - 1;
    // Reruns under the same keys, through a surviving node: each applies
    // its change only if the failed run did not.
    for key in &failed {
        cluster
            .run(
                0,
                &[
                    "--idempotency-key",
                    key,
                    "--json",
                    "stock",
                    "adjust",
                    &id,
                    "--change",
                    "+1",
                ],
            )
            .expect(0);
    }
    let total = runs.len() as i64;
    let ledger = cluster.checked_ledger(0);
    for node in 0..cluster.nodes.len() {
        assert_eq!(
            cluster.ints(
                node,
                "SELECT COUNT(*), MAX(total_after_change) FROM stock_events"
            ),
            [1 + total, total],
            "node {node}: every change exactly once"
        );
        assert_eq!(cluster.checked_ledger(node), ledger, "node {node}");
    }
    println!(
        "galera kill: {WRITERS} writers x 3 nodes, {total} commands, {} failed on the killed node (exit 6; {} of them had been applied) and were rerun, 1 kill round, node back in {rejoined:?}",
        failed.len(),
        applied_before_reruns - (total - failed.len() as i64)
    );
}

crate::when_set!("MILLY_TEST_GALERA_URLS": galera_product_create_on_every_node_at_once_all_succeed_with_dense_positions, galera_stock_adjust_on_every_node_at_once_keeps_the_ledger_contiguous, galera_concurrent_first_use_across_all_nodes_yields_one_complete_schema, galera_every_write_command_on_every_node_at_once_all_succeed, galera_one_idempotency_key_on_every_node_writes_once, galera_one_coupon_code_on_every_node_at_once, galera_a_read_on_a_lagging_node_waits_for_what_the_cluster_committed, galera_a_node_killed_while_writers_run);
