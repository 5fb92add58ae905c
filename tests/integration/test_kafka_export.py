"""weir-export against a real Apache Kafka (KRaft, from Maven Central, scripts/kafka.sh): what a
read_committed consumer sees is every record of the log once, whatever dies and when."""
import glob
import os
import random
import re
import signal
import subprocess
import time

import pytest

from weir_harness import (BUILD, CHECK, READ, committed, fill_fs, free_port, gen_pcap, http_get, kafka_console_agrees,
                          kafka_log_holes, load_json)

EXPORT = os.path.join(BUILD, "export", "weir-export")

BODY = """
set corelist 1
port config all rxq 1
ring size 4M
ring full-policy backpressure
decoder moldudp64 udp-port 26400 topic itch
log fsync interval 20ms
log segment-size 1M
shutdown drain-timeout 30s
"""


def export_lines(brokers, metrics_port, extra=""):
    return (f"export kafka brokers {brokers}\nexport kafka topic itch market.itch loss market.itch.loss\n"
            f"export kafka batch 2000\nexport kafka commit-interval 20ms\n"
            f"export metrics listen 127.0.0.1:{metrics_port}\n{extra}")


def ingest(d):
    dp = d.start_dataplane("--stop-when-idle", "2")
    d.wait_running()
    cp = d.start_control("--exit-when-done")
    return dp, cp


def start_export(d, tag, *args, config=None):
    out = open(os.path.join(d.dir, tag + ".log"), "w")
    p = subprocess.Popen([EXPORT, "-f", config or d.config, *args], stdout=out, stderr=subprocess.STDOUT)
    d.procs.append(p)
    return p


def metric(port, name):
    status, body = http_get(f"http://127.0.0.1:{port}/metrics")
    vals = [float(line.rsplit(" ", 1)[1]) for line in body.splitlines() if line.startswith(name)]
    return sum(vals) if status == 200 and vals else None


def kafka_check(d, kafka, manifest):
    r = subprocess.run([CHECK, "--manifest", manifest, "--kafka", kafka.bootstrap, "market.itch",
                        "--kafka-loss-topic", "market.itch.loss", "--log", d.log_dir], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def export_then_lose_kafka(d, k, port):
    """weir-export following the topic from before its first record, connected; then the only broker dies."""
    os.makedirs(os.path.join(d.log_dir, "itch"))
    ex = start_export(d, "export")
    deadline = time.time() + 60
    while "weir-export: shipping" not in d.output("export") and time.time() < deadline:
        time.sleep(0.1)
    assert metric(port, "weir_export_kafka_up") == 1, d.output("export")
    k.node("kill", 1)
    return ex


def finish_export(d, tag="final"):
    p = start_export(d, tag, "--exit-when-caught-up", "2")
    assert p.wait(timeout=180) == 0, d.output(tag)
    return d.output(tag)


def test_weir_export_runs_on_jemalloc():
    """librdkafka allocates and frees per record on its own threads: jemalloc serves that at 0.7x glibc's CPU
    (perf/README.md).  Under LTO the linker once left the library out unasked; jemalloc's own word (its
    statistics, printed at exit only where it is the allocator) says it is in."""
    r = subprocess.run([EXPORT, "--help"], capture_output=True, text=True, timeout=30,
                       env=dict(os.environ, MALLOC_CONF="stats_print:true"))
    assert "Begin jemalloc statistics" in r.stdout + r.stderr, "weir-export is not on jemalloc's malloc"


def test_every_record_once_while_weir_export_is_sigkilled_and_restarted(deploy, kafka, tmp_path):
    k = kafka(1)
    pcap, manifest = gen_pcap(str(tmp_path), seed=41, messages=200000, sessions=6, loss=0.002)
    port = free_port()
    d = deploy("export-kill", f"--vdev=net_pcap0,rx_pcap={pcap}", BODY + export_lines(k.bootstrap, port))
    dp, cp = ingest(d)
    rng = random.Random(3)
    shipped = []
    for kill in range(4):
        ex = start_export(d, f"export{kill}")
        deadline = time.time() + 60
        base = shipped[-1] if shipped else 0
        # kill it once it has shipped something more: mid-stream, in or between transactions
        while time.time() < deadline and ex.poll() is None:
            n = metric(port, "weir_export_records_total")
            if n is not None and n > rng.randrange(2000, 20000):
                break
            time.sleep(0.02)
        time.sleep(rng.random() * 0.2)
        ex.send_signal(signal.SIGKILL)
        ex.wait()
        shipped.append(base)
    assert dp.wait(timeout=120) == 0, d.output("dataplane")
    assert cp.wait(timeout=60) == 0, d.output("control")
    out = finish_export(d)
    assert " 0 records shipped" not in out, out  # the last kill left work for the final run
    for tag in [f"export{i}" for i in range(4)] + ["final"]:  # librdkafka's log in weir's words (issue 23 item 13)
        said = d.output(tag)
        assert "%4|" not in said and "%3|" not in said, said
        assert said.count("previous weir-export's transaction") <= 1, said
    print(kafka_check(d, k, manifest))
    n = kafka_console_agrees(d.log_dir, k.bootstrap, ["market.itch", "market.itch.loss"])
    print(f"Kafka's console consumer read {n} records, each of the log's once")


def committed_in_kafka(bootstrap, topic):
    """Every committed record of topic (confluent_kafka messages, read_committed, each partition to its end),
    and the topic's partition count."""
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"t-{os.getpid()}", "isolation.level": "read_committed",
                  "enable.partition.eof": True, "enable.auto.commit": False})
    parts = len(c.list_topics(topic, timeout=30).topics[topic].partitions)
    c.assign([TopicPartition(topic, p, 0) for p in range(parts)])
    out, ends = [], 0
    while ends < parts:
        m = c.poll(30)
        assert m is not None, "no end of partition in 30 s"
        if m.error():
            ends += 1
        else:
            out.append(m)
    c.close()
    return out, parts


def test_a_commit_whose_markers_a_broker_restart_lost_is_neither_missed_nor_shipped_again(deploy, kafka, tmp_path):
    """Kafka 4.4, one broker SIGKILLed just after a commit was acknowledged: restarted, it calls the commit
    complete without writing its markers, so the positions partition's last stable offset stays below the
    committed position (explorer seed 1113946175).  A read of the positions to their end missed it, and the
    next weir-export shipped that transaction's records again.  Made exactly here: the records weir-export
    ships to a first Kafka are committed by hand to a second, with weir-export's transactional.id and
    position, the first half of the log in one transaction (a producer id's first: the case seen), the
    broker killed as soon as it is acknowledged; weir-export ships the rest."""
    from confluent_kafka import Producer
    from confluent_kafka.admin import AdminClient, NewTopic
    k1, k2 = kafka(1), kafka(1)
    pcap, manifest = gen_pcap(str(tmp_path), seed=47, messages=6000, sessions=3)
    port = free_port()
    d = deploy("export-lost-markers", f"--vdev=net_pcap0,rx_pcap={pcap}", BODY + export_lines(k1.bootstrap, port))
    dp, cp = ingest(d)
    assert dp.wait(timeout=120) == 0 and cp.wait(timeout=60) == 0
    finish_export(d, "first")
    got, parts = committed_in_kafka(k1.bootstrap, "market.itch")
    recs = sorted((int(dict(m.headers())["weir.offset"]), m.partition(), m.key(), m.value(), m.headers(),
                   m.timestamp()[1]) for m in got)  # in log order, as weir-export wrote them
    end = recs[-1][0] + 1
    assert [r[0] for r in recs] == list(range(end)), "a log with no LOSS record: every offset in market.itch"
    admin = AdminClient({"bootstrap.servers": k2.bootstrap})
    made = admin.create_topics([NewTopic("market.itch", parts, 1),
                                NewTopic("weir.export.positions", 1, 1, config={"cleanup.policy": "compact"})])
    for f in made.values():
        f.result(30)
    p = Producer({"bootstrap.servers": k2.bootstrap, "transactional.id": "weir-export-weir"})
    p.init_transactions(60)
    half = end // 2  # the rest is the next weir-export's: each source has records in both halves
    p.begin_transaction()
    for off, part, key, value, headers, ts in recs[:half]:
        p.produce("market.itch", value, key, partition=part, headers=headers, timestamp=ts)
    p.produce("weir.export.positions", str(half).encode(), b"weir/itch")
    with open(os.path.join(k2.dir, "node1", "pid")) as f:
        broker = int(f.read())
    p.commit_transaction(60)
    os.kill(broker, signal.SIGKILL)  # acknowledged; its markers not yet written (when they were, this tests less)
    del p
    k2.node("restart", 1)
    again = os.path.join(d.dir, "second.conf")
    with open(d.config) as f, open(again, "w") as g:
        g.write(f.read().replace(k1.bootstrap, k2.bootstrap).replace(f"127.0.0.1:{port}", f"127.0.0.1:{free_port()}"))
    ex = start_export(d, "second", "--exit-when-caught-up", "2", config=again)
    assert ex.wait(timeout=180) == 0, d.output("second")
    assert f"from log offset {half}" in d.output("second"), d.output("second")
    r = subprocess.run([CHECK, "--manifest", manifest, "--kafka", k2.bootstrap, "market.itch",
                        "--kafka-loss-topic", "market.itch.loss", "--log", d.log_dir], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    n = kafka_console_agrees(d.log_dir, k2.bootstrap, ["market.itch", "market.itch.loss"])
    assert n == end


def test_a_fenced_zombie_exports_nothing_twice(deploy, kafka, tmp_path):
    k = kafka(1)
    pcap, manifest = gen_pcap(str(tmp_path), seed=43, messages=80000, sessions=4)
    port = free_port()
    d = deploy("export-zombie", f"--vdev=net_pcap0,rx_pcap={pcap}", BODY + export_lines(k.bootstrap, port))
    dp, cp = ingest(d)
    zombie = start_export(d, "zombie")
    deadline = time.time() + 60
    while (metric(port, "weir_export_records_total") or 0) < 1000 and time.time() < deadline:
        time.sleep(0.02)
    zombie.send_signal(signal.SIGSTOP)  # frozen mid-stream, as a hung process would be
    assert dp.wait(timeout=120) == 0 and cp.wait(timeout=60) == 0
    # The successor: the same id (so the same transactional.id), its metrics elsewhere.
    succ = os.path.join(d.dir, "successor.conf")
    with open(d.config) as f, open(succ, "w") as g:
        g.write(f.read().replace(f"export metrics listen 127.0.0.1:{port}", f"export metrics listen 127.0.0.1:{free_port()}"))
    successor = start_export(d, "successor", "--exit-when-caught-up", "2", config=succ)
    assert successor.wait(timeout=180) == 0, d.output("successor")
    zombie.send_signal(signal.SIGCONT)
    assert zombie.wait(timeout=90) == 1, d.output("zombie")  # fenced: it stops, and says so
    assert "fatal" in d.output("zombie"), d.output("zombie")
    print(kafka_check(d, k, manifest))


def test_an_unreachable_kafka_holds_up_neither_ingest_nor_retention_and_the_lag_drains(deploy, kafka, tmp_path):
    k = kafka(1)
    pcap, manifest = gen_pcap(str(tmp_path), seed=47, messages=150000, sessions=5, loss=0.002)
    port = free_port()
    # Retention would keep 2 MiB: what the exporter has not shipped is held back all the same.
    d = deploy("export-outage", f"--vdev=net_pcap0,rx_pcap={pcap}",
               BODY + "log retention size 2M\n" + export_lines(k.bootstrap, port))
    ex = export_then_lose_kafka(d, k, port)
    dp, cp = ingest(d)
    assert dp.wait(timeout=120) == 0, d.output("dataplane")
    assert cp.wait(timeout=60) == 0, d.output("control")
    stats = load_json(d.dataplane_stats)
    assert stats["identity_holds"] and stats["total"]["ring_full_packets"] == 0
    total = committed(d.log_dir, "itch")
    time.sleep(2)
    assert metric(port, "weir_export_lag_records") > 0
    topic_dir = os.path.join(d.log_dir, "itch")
    segments = sorted(f for f in os.listdir(topic_dir) if f.endswith(".log"))
    held = sum(os.path.getsize(os.path.join(topic_dir, f)) for f in segments)
    # over the bound with more than the segment being written, yet the first is kept for the exporter
    assert segments[0] == f"{0:020d}.log" and len(segments) > 1 and held > 2 << 20, (segments, held)
    assert metric(port, "weir_export_kafka_up") == 0
    k.node("restart", 1)
    deadline = time.time() + 120
    while metric(port, "weir_export_lag_records") != 0 and time.time() < deadline:
        time.sleep(0.2)
    assert metric(port, "weir_export_lag_records") == 0, d.output("export")
    assert metric(port, "weir_export_records_total") == total
    ex.send_signal(signal.SIGTERM)
    assert ex.wait(timeout=60) == 0, d.output("export")
    print(kafka_check(d, k, manifest))


def wait_metric(port, name, want, seconds):
    deadline = time.time() + seconds
    while metric(port, name) != want and time.time() < deadline:
        time.sleep(0.1)
    return metric(port, name)


def test_an_outage_longer_than_a_transaction_keeps_the_lag_true_and_ships_everything_once_kafka_is_back(
        deploy, kafka, tmp_path):
    """The commit that waits for an absent Kafka is asked again each second: meanwhile the lag gauge follows the
    log (it froze at what the first step saw), and an outage three transaction timeouts long (the open one's
    records expire, the transaction must be aborted while Kafka is still away) ends with every record once."""
    k = kafka(1)
    pcap, manifest = gen_pcap(str(tmp_path), seed=61, messages=60000, sessions=4)
    port = free_port()
    d = deploy("export-long", f"--vdev=net_pcap0,rx_pcap={pcap}",
               BODY + export_lines(k.bootstrap, port, "export kafka set transaction.timeout.ms 5000\n"))
    ex = export_then_lose_kafka(d, k, port)
    dp, cp = ingest(d)
    assert dp.wait(timeout=120) == 0 and cp.wait(timeout=60) == 0, d.output("control")
    total = committed(d.log_dir, "itch")
    assert wait_metric(port, "weir_export_lag_records", total, 5) == total, d.output("export")
    assert metric(port, "weir_export_kafka_up") == 0
    # and the bytes behind are the whole log's, though the open transaction has read some of it (they were
    # measured from the reader, up to an open transaction ahead of Kafka)
    topic_dir = os.path.join(d.log_dir, "itch")
    sizes = [os.path.getsize(os.path.join(topic_dir, f)) for f in os.listdir(topic_dir) if f.endswith(".log")]
    deadline = time.time() + 5
    while not sum(sizes) - 16 * len(sizes) <= metric(port, "weir_export_lag_bytes") <= sum(sizes) \
            and time.time() < deadline:
        time.sleep(0.2)
    assert sum(sizes) - 16 * len(sizes) <= metric(port, "weir_export_lag_bytes") <= sum(sizes), \
        (metric(port, "weir_export_lag_bytes"), sizes)
    time.sleep(15)  # three transaction timeouts
    assert metric(port, "weir_export_lag_records") == total and ex.poll() is None, d.output("export")
    k.node("restart", 1)
    assert wait_metric(port, "weir_export_lag_records", 0, 120) == 0, d.output("export")
    assert metric(port, "weir_export_records_total") == total and metric(port, "weir_export_kafka_up") == 1
    # the scenario is the one named: the open transaction's records expired and it was aborted
    assert metric(port, "weir_export_transaction_aborts_total") >= 1
    assert metric(port, 'weir_export_errors_total{code="_MSG_TIMED_OUT"}') > 0
    # the positions consumer takes the operator's settings too, and does not say each producer one is not its
    assert "producer property" not in d.output("export")
    ex.send_signal(signal.SIGTERM)
    assert ex.wait(timeout=60) == 0, d.output("export")
    print(kafka_check(d, k, manifest))


def test_a_stop_during_an_outage_ends_promptly_and_the_next_run_ships_everything_once(deploy, kafka, tmp_path):
    """SIGTERM while a commit waits for an absent Kafka: weir-export stops within seconds (it asked again
    forever; then its unsent records waited out a 10 s flush), saying the open transaction was not known
    committed; the next run, Kafka back, ships all once."""
    k = kafka(1)
    pcap, manifest = gen_pcap(str(tmp_path), seed=67, messages=30000, sessions=3)
    port = free_port()
    d = deploy("export-stop", f"--vdev=net_pcap0,rx_pcap={pcap}", BODY + export_lines(k.bootstrap, port))
    ex = export_then_lose_kafka(d, k, port)
    dp, cp = ingest(d)
    assert dp.wait(timeout=120) == 0 and cp.wait(timeout=60) == 0, d.output("control")
    total = committed(d.log_dir, "itch")
    assert wait_metric(port, "weir_export_lag_records", total, 5) == total, d.output("export")
    t0 = time.time()
    ex.send_signal(signal.SIGTERM)
    assert ex.wait(timeout=60) == 0, d.output("export")
    stopped = time.time() - t0
    assert stopped < 5, (stopped, d.output("export"))
    assert "not known to be committed" in d.output("export")
    k.node("restart", 1)
    finish_export(d)
    print(f"stopped in {stopped:.1f} s during the outage\n" + d.output("export")[-600:])
    print(kafka_check(d, k, manifest))


def test_weir_export_started_while_kafka_is_away_waits_says_no_false_lag_and_ships_once_it_is_back(
        deploy, kafka, tmp_path):
    """Started with the only broker down: it waits (asked again each second; it gave up after 60 s and exited 1),
    /healthz says 503 and the lag gauges have no sample until Kafka's positions are known (a 0 said nothing
    waits); a stop meanwhile ends it at once, cleanly; the next one, Kafka back, ships every record once."""
    k = kafka(1)
    pcap, manifest = gen_pcap(str(tmp_path), seed=71, messages=20000, sessions=3)
    port = free_port()
    d = deploy("export-late", f"--vdev=net_pcap0,rx_pcap={pcap}", BODY + export_lines(k.bootstrap, port))
    dp, cp = ingest(d)
    assert dp.wait(timeout=120) == 0 and cp.wait(timeout=60) == 0, d.output("control")
    total = committed(d.log_dir, "itch")
    k.node("kill", 1)
    first = start_export(d, "first")
    deadline = time.time() + 30
    while "waiting for Kafka to answer" not in d.output("first") and time.time() < deadline:
        time.sleep(0.1)
    assert first.poll() is None and "waiting for Kafka to answer" in d.output("first"), d.output("first")
    status, text = http_get(f"http://127.0.0.1:{port}/healthz")
    assert status == 503 and metric(port, "weir_export_kafka_up") == 0, text
    assert metric(port, "weir_export_lag_records") is None  # unknown: no sample, not 0
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=10) == 0, d.output("first")
    assert "stopped before Kafka answered" in d.output("first")
    ex = start_export(d, "export")
    time.sleep(3)
    assert ex.poll() is None, d.output("export")
    k.node("restart", 1)
    assert wait_metric(port, "weir_export_lag_records", 0, 120) == 0, d.output("export")
    assert metric(port, "weir_export_records_total") == total and metric(port, "weir_export_kafka_up") == 1
    ex.send_signal(signal.SIGTERM)
    assert ex.wait(timeout=60) == 0, d.output("export")
    print(kafka_check(d, k, manifest))


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to mount a small tmpfs")
def test_weir_export_started_on_a_full_disk_waits_to_register_then_ships_everything_once(deploy, kafka, tmp_path):
    """The log's file system full when weir-export starts: registering as the log's reader (which holds
    retention back) fails with ENOSPC.  It waits for room, saying so (it exited 1: explorer seed 1109955649),
    and once there is room it registers and ships every record once."""
    k = kafka(1)
    pcap, manifest = gen_pcap(str(tmp_path), seed=73, messages=20000, sessions=3)
    port = free_port()
    fs = tmp_path / "fs"
    fs.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "weirexportfull", str(fs)], check=True)
    try:
        d = deploy("export-full", f"--vdev=net_pcap0,rx_pcap={pcap}", BODY + export_lines(k.bootstrap, port))
        with open(d.config) as f:  # the log onto the small file system
            conf = f.read().replace(f"log dir {d.log_dir}", f"log dir {fs}/log")
        with open(d.config, "w") as f:
            f.write(conf)
        d.log_dir = str(fs / "log")
        dp, cp = ingest(d)
        assert dp.wait(timeout=120) == 0 and cp.wait(timeout=60) == 0, d.output("control")
        total = committed(d.log_dir, "itch")
        fill_fs(fs / "filler")
        ex = start_export(d, "export")
        deadline = time.time() + 60
        while "waiting for room to register" not in d.output("export") and time.time() < deadline:
            time.sleep(0.1)
        assert "waiting for room to register" in d.output("export"), d.output("export")
        time.sleep(1.5)  # a retry or two
        assert ex.poll() is None, d.output("export")
        os.unlink(fs / "filler")
        assert wait_metric(port, "weir_export_lag_records", 0, 120) == 0, d.output("export")
        assert metric(port, "weir_export_records_total") == total
        ex.send_signal(signal.SIGTERM)
        assert ex.wait(timeout=60) == 0, d.output("export")
        print(kafka_check(d, k, manifest))
    finally:
        subprocess.run(["umount", "-l", str(fs)])


def test_a_broker_killed_in_a_three_broker_cluster_loses_and_repeats_nothing(deploy, kafka, tmp_path):
    k = kafka(3)
    pcap, manifest = gen_pcap(str(tmp_path), seed=53, messages=150000, sessions=6)
    port = free_port()
    d = deploy("export-3", f"--vdev=net_pcap0,rx_pcap={pcap}", BODY + export_lines(k.bootstrap, port))
    ex = start_export(d, "export")
    dp, cp = ingest(d)
    deadline = time.time() + 60
    while (metric(port, "weir_export_records_total") or 0) < 20000 and time.time() < deadline:
        time.sleep(0.02)
    k.node("kill", 2)
    assert dp.wait(timeout=120) == 0 and cp.wait(timeout=60) == 0
    total = committed(d.log_dir, "itch")
    deadline = time.time() + 120
    while metric(port, "weir_export_records_total") != total and time.time() < deadline:
        time.sleep(0.2)
    ex.send_signal(signal.SIGTERM)
    assert ex.wait(timeout=60) == 0, d.output("export")
    print(kafka_check(d, k, manifest))
    n = kafka_console_agrees(d.log_dir, k.bootstrap, ["market.itch", "market.itch.loss"])
    print(f"Kafka's console consumer read {n} records, each of the log's once")


def test_hard_retention_during_an_outage_counts_what_it_deleted_unshipped(deploy, kafka, tmp_path):
    k = kafka(1)
    pcap, manifest = gen_pcap(str(tmp_path), seed=59, messages=150000, sessions=4)
    port = free_port()
    # every commit durable, so segments roll at 1M as they fill
    body = BODY.replace("log fsync interval 20ms", "log fsync batch")
    d = deploy("export-hard", f"--vdev=net_pcap0,rx_pcap={pcap}",
               body + "log retention size 1M\nlog retention hard\n" + export_lines(k.bootstrap, port))
    topic_dir = os.path.join(d.log_dir, "itch")
    ex = export_then_lose_kafka(d, k, port)
    dp = d.start_dataplane()  # runs until told: weir-control stays attached, its retention thread running
    d.wait_running()
    cp = d.start_control()
    want = load_json(manifest)["expected"]["event_records"]
    deadline = time.time() + 60  # every record in, and retention has deleted the first segments, unshipped
    while (committed(d.log_dir, "itch") < want or f"{0:020d}.log" in os.listdir(topic_dir)) \
            and time.time() < deadline:
        time.sleep(0.2)
    assert f"{0:020d}.log" not in os.listdir(topic_dir), os.listdir(topic_dir)
    # weir-control's /metrics says what retention did: segments deleted, unread by the exporter
    assert metric(d.metrics_port, 'weir_log_retention_deleted_segments_total{topic="itch"}') > 0
    assert metric(d.metrics_port, 'weir_log_retention_unread_deleted_total{topic="itch"}') > 0
    first = min(int(f[:20]) for f in os.listdir(topic_dir) if f.endswith(".log"))
    assert metric(d.metrics_port, 'weir_log_oldest_offset{topic="itch"}') == first
    dp.send_signal(signal.SIGINT)
    assert dp.wait(timeout=120) == 0, d.output("dataplane")
    cp.send_signal(signal.SIGTERM)
    assert cp.wait(timeout=60) == 0, d.output("control")
    total = committed(d.log_dir, "itch")
    k.node("restart", 1)
    deadline = time.time() + 120
    while metric(port, "weir_export_lag_records") != 0 and time.time() < deadline:
        time.sleep(0.2)
    deleted = metric(port, "weir_export_unshipped_deleted_total")
    shipped = metric(port, "weir_export_records_total")
    ex.send_signal(signal.SIGTERM)
    assert ex.wait(timeout=60) == 0, d.output("export")
    assert deleted > 0, d.output("export")  # hard retention did delete what was not shipped
    assert "never shipped" in d.output("export")
    assert shipped + deleted == total, (shipped, deleted, total)  # every offset: in Kafka, or counted lost
    # and stated lost in Kafka: in every partition, each deleted offset in one log_hole record, once
    holes, order = kafka_log_holes(k.bootstrap, ["market.itch"])
    assert len(holes) == 4, holes
    for p, hs in holes.items():
        offsets = [o for first, last, cause in hs for o in range(first, last + 1)]
        assert {c for _, _, c in hs} == {"retention"} and len(offsets) == len(set(offsets)) == deleted, (p, hs)
        shipped_here = [o for o in order[p] if not isinstance(o, tuple)]
        assert not set(offsets) & set(shipped_here), p
    r = subprocess.run([CHECK, "--manifest", manifest, "--kafka", k.bootstrap, "market.itch"],
                       capture_output=True, text=True)
    want = load_json(manifest)["expected"]["event_records"]
    # Kafka holds exactly what was not deleted, and weir-check sees the shortfall
    assert r.returncode == 1 and f"events persisted: got {int(total - deleted)}, manifest says {want}" in r.stdout, \
        r.stdout
    assert re.search(rf"info log offsets never shipped: retention +{int(deleted)}\b", r.stdout), r.stdout


def per_topic_metric(port, name):
    """{topic: value} of a per-topic family of weir-export's /metrics."""
    status, body = http_get(f"http://127.0.0.1:{port}/metrics")
    out = {}
    for line in body.splitlines() if status == 200 else []:
        if line.startswith(name + "{"):
            out[line.split('topic="', 1)[1].split('"', 1)[0]] = float(line.rsplit(" ", 1)[1])
    return out


def test_a_backlog_on_one_topic_neither_starves_another_nor_stretches_a_transaction(deploy, kafka, tmp_path):
    """Issue 23 items 7 and 8: a whole backlog on itch and on _deadletter, a batch far larger than either, a
    50 ms commit-interval: both topics ship from the first transactions on (small turns, the front topic
    changing each round), and no transaction is open much longer than the interval, backlog or not."""
    k = kafka(1)
    pcap, manifest = gen_pcap(str(tmp_path), seed=44, messages=300000, sessions=4, malformed_rate=0.02)
    port = free_port()
    lines = (f"export kafka brokers {k.bootstrap}\nexport kafka topic itch market.itch\n"  # the backlog's topic first
             "export kafka topic _deadletter market.dl\nexport kafka batch 1000000\nexport kafka commit-interval 50ms\n"
             f"export metrics listen 127.0.0.1:{port}\n")
    d = deploy("export-fair", f"--vdev=net_pcap0,rx_pcap={pcap}", BODY + lines)
    dp, cp = ingest(d)  # the whole feed into the log first: the exporter starts on a backlog
    assert dp.wait(timeout=120) == 0 and cp.wait(timeout=60) == 0, d.output("control")
    total = {t: committed(d.log_dir, t) for t in ("itch", "_deadletter")}
    assert total["_deadletter"] > 1000 and total["itch"] > 100 * total["_deadletter"] / 10
    ex = start_export(d, "export", "--exit-when-caught-up", "2")
    both_early, ages, deadline = None, {}, time.time() + 120
    while ex.poll() is None and time.time() < deadline:
        got = per_topic_metric(port, "weir_export_records_total")
        if both_early is None and got.get("itch", 0) > 0:
            both_early = dict(got)  # the first figures once anything is in Kafka
        body = http_get(f"http://127.0.0.1:{port}/metrics")[1]
        hist = {line.split(" ")[0]: float(line.rsplit(" ", 1)[1]) for line in body.splitlines()
                if line.startswith("weir_export_transaction_age_seconds")}
        ages = hist or ages  # the last figures before it exits
        time.sleep(0.01)
    assert ex.wait(timeout=60) == 0, d.output("export")
    assert both_early and both_early.get("_deadletter", 0) > 0 and both_early["itch"] < total["itch"], both_early
    n = ages.get("weir_export_transaction_age_seconds_count{}", 0)
    within = ages.get('weir_export_transaction_age_seconds_bucket{le="0.524288"}', 0)
    print(f"first figures in Kafka: {both_early} of {total}; {n:.0f} transactions, {within:.0f} open <= 0.52 s")
    assert n >= 5 and within == n, ages  # the interval bounds a transaction, not the batch (1,000,000 here)
    check = [CHECK, "--manifest", manifest, "--kafka", k.bootstrap, "market.itch", "--log", d.log_dir]
    r = subprocess.run(check, capture_output=True, text=True)
    assert r.returncode == 0 and "dead letters NOT checked" in r.stdout, r.stdout + r.stderr  # says what it skipped
    r = subprocess.run(check + ["--kafka-dead-letter-topic", "market.dl"], capture_output=True, text=True)
    assert r.returncode == 0 and f"{total['_deadletter']} dead letters by reason" in r.stdout, r.stdout + r.stderr
    dl, _ = committed_in_kafka(k.bootstrap, "market.dl")
    assert {m.key() for m in dl} == {b"dl:port0:worker0"}  # keyed by where they came in (one port, one worker here)
    assert all(dict(m.headers())["weir.dead_letter.reason"] and dict(m.headers())["weir.dead_letter.length"]
               for m in dl)
    from confluent_kafka import Producer  # Kafka's own client writes a copy of one: weir-check must see it
    p = Producer({"bootstrap.servers": k.bootstrap})
    p.produce("market.dl", key=dl[0].key(), value=dl[0].value(), headers=dl[0].headers())
    p.flush(30)
    r = subprocess.run(check + ["--kafka-dead-letter-topic", "market.dl"], capture_output=True, text=True)
    assert r.returncode == 1 and "dead letters of the log once each in Kafka" in r.stdout, r.stdout + r.stderr


def test_a_damaged_segment_stops_the_export_until_salvaged_and_then_the_rest_ships_once(deploy, kafka, tmp_path):
    """A byte flipped in a sealed segment nobody had read yet: weir-export ships up to the damage and stops
    there, saying where and what to do (exit 1, as often as it is started: never past it quietly).  After
    weir-read --salvage, the next run ships the rest: Kafka's console consumer finds every record the log
    still holds once, and the hole's records are said never shipped."""
    k = kafka(1)
    pcap, manifest = gen_pcap(str(tmp_path), seed=47, messages=150000, sessions=4)
    port = free_port()
    d = deploy("export-damage", f"--vdev=net_pcap0,rx_pcap={pcap}",
               BODY.replace("segment-size 1M", "segment-size 64K") + export_lines(k.bootstrap, port))
    dp, cp = ingest(d)
    assert dp.wait(timeout=120) == 0 and cp.wait(timeout=60) == 0, d.output("control")
    segments = sorted(glob.glob(os.path.join(d.log_dir, "itch", "*.log")))
    assert len(segments) >= 3, segments
    victim = segments[-2]  # the newest sealed one: good batches before the damage and after it
    size = os.path.getsize(victim)
    with open(victim, "r+b") as f:  # one flipped byte, halfway into a sealed segment
        f.seek(size // 2)
        b = f.read(1)
        f.seek(size // 2)
        f.write(bytes([b[0] ^ 0x20]))
    for tag in ("damaged", "damaged-again"):
        p = start_export(d, tag, "--exit-when-caught-up", "2")
        assert p.wait(timeout=180) == 1, d.output(tag)
        assert os.path.basename(victim) in d.output(tag) and "salvage" in d.output(tag), d.output(tag)
    r = subprocess.run([READ, "--salvage", os.path.join(d.log_dir, "itch")], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    lost = int(re.search(r"(\d+) records? lost in 1 hole", r.stdout).group(1))
    first, last = map(int, re.search(r"\(offsets (\d+)-(\d+)\)", r.stdout).groups())
    assert last - first + 1 == lost, r.stdout
    p = start_export(d, "final", "--exit-when-caught-up", "2")
    deadline, seen = time.time() + 180, None
    while seen != lost and time.time() < deadline and p.poll() is None:  # it stays up 2 s once caught up
        seen = metric(port, "weir_export_unshipped_lost_total")
        time.sleep(0.05)
    assert seen == lost, (seen, lost, d.output("final"))
    assert p.wait(timeout=180) == 0, d.output("final")
    out = d.output("final")
    assert out.count("are stated lost in the log") == 1, out
    n = kafka_console_agrees(d.log_dir, k.bootstrap, ["market.itch", "market.itch.loss"])
    # and Kafka says where the hole is: once in every partition (any source may have had records there),
    # between what came before it and what came after, so a consumer of Kafka alone sees why numbers jump
    holes, order = kafka_log_holes(k.bootstrap, ["market.itch", "market.itch.loss"])
    assert sorted(holes) == [(t, p) for t in ("market.itch", "market.itch.loss") for p in range(4)], holes
    assert all(h == [(first, last, "damaged")] for h in holes.values()), holes
    for p, seen in order.items():
        at = seen.index(("hole", first, last))
        assert all(o < first for o in seen[:at]) and all(o > last for o in seen[at + 1:]), p
    r = subprocess.run([CHECK, "--manifest", manifest, "--kafka", k.bootstrap, "market.itch",
                        "--kafka-loss-topic", "market.itch.loss"], capture_output=True, text=True)
    assert re.search(rf"info log offsets never shipped: damaged +{lost}\b", r.stdout), r.stdout
    print(f"Kafka's console consumer read {n} records, each of the log's once; {lost} lost in the hole, "
          f"stated in each of {len(holes)} partitions")
