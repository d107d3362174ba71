// The `cluster/slurm` recipe against a real single-node Slurm (Debian's slurmctld, slurmd, munge, started
// here with all state in a temporary directory): its array of workers, running the binary it is given by path
// and staged by sbcast, completes a grid.
// Disabled, with the reason, when Slurm or munge is not installed or when not root; cancelled if it does not come up.
import Experiment
import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// munged + slurmctld + slurmd on this machine; stopped on deinit.
final class SingleNodeSlurm: @unchecked Sendable {
    let dir: URL
    var conf: String { dir.appendingPathComponent("slurm.conf").path }
    var ready = false

    static func installed() -> Bool {
        ["/usr/sbin/slurmctld", "/usr/sbin/slurmd", "/usr/sbin/munged", "/usr/bin/sbatch"].allSatisfy { FileManager.default.fileExists(atPath: $0) }
    }

    init(dir: URL) {
        self.dir = dir
        let d = dir.path
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "localhost"
        let port = Int.random(in: 20000..<30000)
        let config = """
            ClusterName=smaller
            SlurmctldHost=\(host)
            SlurmUser=root
            SlurmdUser=root
            AuthType=auth/munge
            AuthInfo=socket=\(d)/munge/munge.sock
            CredType=cred/munge
            MpiDefault=none
            ProctrackType=proctrack/linuxproc
            TaskPlugin=task/none
            SelectType=select/cons_tres
            SelectTypeParameters=CR_Core
            SchedulerType=sched/builtin
            SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
            StateSaveLocation=\(d)/state
            SlurmdSpoolDir=\(d)/spool
            SlurmctldPidFile=\(d)/slurmctld.pid
            SlurmdPidFile=\(d)/slurmd.pid
            SlurmctldPort=\(port)
            SlurmdPort=\(port + 1)
            SlurmctldLogFile=\(d)/slurmctld.log
            SlurmdLogFile=\(d)/slurmd.log
            ReturnToService=2
            JobCompType=jobcomp/none
            AccountingStorageType=accounting_storage/none
            SlurmdParameters=config_overrides
            NodeName=\(host) CPUs=4 State=UNKNOWN
            PartitionName=debug Nodes=\(host) Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4

            """
        try? config.write(toFile: conf, atomically: true, encoding: .utf8)
        let script = """
            set -e
            chmod 755 \(d); mkdir -p \(d)/munge \(d)/state \(d)/spool
            chown munge:munge \(d)/munge; chmod 700 \(d)/munge
            head -c 1024 /dev/urandom > \(d)/munge/munge.key; chown munge:munge \(d)/munge/munge.key; chmod 400 \(d)/munge/munge.key
            runuser -u munge -- munged --force --socket=\(d)/munge/munge.sock --key-file=\(d)/munge/munge.key --pid-file=\(d)/munge/munged.pid --log-file=\(d)/munge/munged.log --seed-file=\(d)/munge/seed
            export SLURM_CONF=\(conf)
            slurmctld
            slurmd
            """
        // system(), not Process: the daemons fork away, and Foundation's Process then waited on them here.
        guard Self.system(script) == 0 else { return }
        ready = waitUntil(seconds: 15) { Self.system("SLURM_CONF=\(self.conf) sinfo -h -o %t | grep -q idle") == 0 }
    }

    /// Runs a shell command with every descriptor on /dev/null, waiting only for the shell itself.
    @discardableResult
    static func system(_ command: String) -> Int32 {
        let status = Glibc.system("( \(command) ) </dev/null >/dev/null 2>&1")
        return status == -1 ? -1 : (status >> 8) & 0xff
    }

    deinit {
        let d = dir.path
        Self.system("SLURM_CONF=\(conf) scancel --quiet --full -u root; kill $(cat \(d)/slurmd.pid) $(cat \(d)/slurmctld.pid) $(cat \(d)/munge/munged.pid) 2>/dev/null")
    }
}

@Suite(.serialized, .enabled(if: Smaller.available, Smaller.unavailable)) struct SlurmTests {
    @Test(.enabled(if: getuid() == 0, "starting slurmd needs root"),
          .enabled(if: SingleNodeSlurm.installed(), "Slurm not installed (apt-get install --no-install-recommends slurmctld slurmd slurm-client munge)"))
    func slurmArrayOfWorkersCompletesAGrid() throws {
        let dir = try Fixtures.temporaryDirectory("slurm")
        defer { try? FileManager.default.removeItem(at: dir) }
        let slurmDir = dir.appendingPathComponent("slurm")
        try FileManager.default.createDirectory(at: slurmDir, withIntermediateDirectories: true)
        let slurm = SingleNodeSlurm(dir: slurmDir)
        guard slurm.ready else { try Test.cancel("the single-node Slurm did not come up here (see \(slurmDir.path))") }

        let yaml = "name: slurm\nnoop: {tasks: 30, seconds: 0.05}\n"
        let job = try writeJob(yaml, in: dir)
        let endpoint = "tcp://127.0.0.1:\(freePort())"
        let runURL = dir.appendingPathComponent("run")
        let run = RunDir(url: runURL)
        let coordinator = try Child(["coordinator", job, "--bind", endpoint, "--dir", runURL.path], in: dir, name: "coordinator")
        let recipe = Fixtures.repositoryRoot.appendingPathComponent("cluster/slurm/workers.sbatch").path
        // The binary named by path (not on PATH), staged to each node by sbcast as on a cluster without it installed.
        let submit = SingleNodeSlurm.system("cd \(dir.path) && SLURM_CONF=\(slurm.conf) SMALLER=\(Smaller.executable!.path) SMALLER_BCAST=1 "
                                            + "ENDPOINT=\(endpoint) sbatch --array=1-2 \(recipe)")
        #expect(submit == 0)
        #expect(coordinator.wait(seconds: 60, "coordinator") == 0, "\(coordinator.text.suffix(2000))")
        #expect(Set(run.exportedIDs) == Set(try JobSpec.parse(yaml: yaml).plan().tasks.map(\.id)))
        #expect(try run.resultCount() == (30, 30))
        // Both array tasks' workers joined, and they left when the grid finished (the array drains).
        #expect(run.coordinatorLog.components(separatedBy: "\n").filter { $0.contains("joined") }.count >= 2)
        #expect(waitUntil(seconds: 20) { SingleNodeSlurm.system("SLURM_CONF=\(slurm.conf) squeue -h | grep -q .") != 0 })
        let logs = (try FileManager.default.contentsOfDirectory(atPath: dir.path)).filter { $0.hasPrefix("smaller-worker-") }
        #expect(logs.count == 2)
    }
}
