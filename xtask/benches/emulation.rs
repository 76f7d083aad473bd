//! What QEMU emulation costs a CPU-bound `RUN` step: the same busybox work run natively (the
//! host's busybox-static, amd64 here) and as arm64 under `qemu-aarch64-static`, the emulator
//! a builder without an arm64 node uses (via binfmt_misc) for every `RUN` of an arm64 build.
//!
//! Two workloads, the shapes of a RUN step: a shell loop (an interpreter: pip's Python, a
//! configure script) and `sha256sum` over 64 MiB (compiled code over data: building a C
//! extension). Each: one warm-up, then 5 runs; prints the minimum and median wall time, the
//! minimum CPU time of the child (user + system, from getrusage, which a busy machine disturbs
//! less), and the emulated/native ratios.
//!
//! Needs an arm64 busybox-static: `XTASK_BENCH_ARM64_BUSYBOX=PATH`, e.g. from Debian's
//! `busybox-static:arm64` package (`apt-get download busybox-static:arm64` with arm64 added to
//! apt's architectures, then `dpkg-deb -x` it). Without it the bench says so and exits 2.
//! Processes are started through xtask's own Runner.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use xtask::exec::{Cmd, Runner};

const RUNS: usize = 5;
const LOOP: &str = "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done";

/// The children's total CPU time so far (user + system).
fn children_cpu() -> Duration {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given.
    let usage = unsafe {
        assert_eq!(
            libc::getrusage(libc::RUSAGE_CHILDREN, usage.as_mut_ptr()),
            0
        );
        usage.assume_init()
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// (min wall, median wall, min cpu) of `cmd` over [`RUNS`] runs after a warm-up.
fn measure(runner: &Runner, cmd: &Cmd) -> (Duration, Duration, Duration) {
    let run = || {
        let out = runner.output(cmd).expect("the command starts");
        assert!(out.success(), "`{cmd}` failed: {}", out.stderr);
    };
    run();
    let mut wall = Vec::new();
    let mut cpu = Vec::new();
    for _ in 0..RUNS {
        let (c0, t0) = (children_cpu(), Instant::now());
        run();
        wall.push(t0.elapsed());
        cpu.push(children_cpu() - c0);
    }
    wall.sort();
    cpu.sort();
    (wall[0], wall[RUNS / 2], cpu[0])
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(program))
        .find(|p| p.is_file())
}

fn main() {
    let native = which("busybox").expect("busybox-static must be installed");
    let qemu = which("qemu-aarch64-static").expect("qemu-user-static must be installed");
    let Some(arm64) = std::env::var_os("XTASK_BENCH_ARM64_BUSYBOX").map(PathBuf::from) else {
        eprintln!(
            "set XTASK_BENCH_ARM64_BUSYBOX to an arm64 busybox-static (Debian's \
             busybox-static:arm64, unpacked with dpkg-deb -x)"
        );
        std::process::exit(2);
    };
    let binfmt = Path::new("/proc/sys/fs/binfmt_misc/qemu-aarch64").exists();
    println!(
        "binfmt_misc qemu-aarch64 registered on this machine: {binfmt} (not needed here: the \
         emulator is run directly)"
    );
    let work = tempfile::tempdir().unwrap();
    let big = work.path().join("big");
    std::fs::write(&big, vec![0x5a_u8; 64 << 20]).unwrap();
    let runner = Runner::new(false, Duration::from_secs(600)).unwrap();
    let native_cmd = |args: &[&str]| Cmd::new(native.to_str().unwrap()).args(args.iter().copied());
    let emulated_cmd = |args: &[&str]| {
        Cmd::new(qemu.to_str().unwrap())
            .arg(arm64.to_str().unwrap())
            .args(args.iter().copied())
    };
    let big = big.to_str().unwrap();
    for (name, args) in [
        ("sh loop, 200,000 iterations", vec!["sh", "-c", LOOP]),
        ("sha256sum of 64 MiB", vec!["sha256sum", big]),
    ] {
        let (n_min, n_med, n_cpu) = measure(&runner, &native_cmd(&args));
        let (e_min, e_med, e_cpu) = measure(&runner, &emulated_cmd(&args));
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!("{name}:");
        println!(
            "  native amd64      wall min {:>8.1} ms  median {:>8.1} ms  cpu min {:>8.1} ms",
            ms(n_min),
            ms(n_med),
            ms(n_cpu)
        );
        println!(
            "  emulated arm64    wall min {:>8.1} ms  median {:>8.1} ms  cpu min {:>8.1} ms",
            ms(e_min),
            ms(e_med),
            ms(e_cpu)
        );
        println!(
            "  emulated/native   wall min {:>5.1}x  median {:>5.1}x  cpu {:>5.1}x",
            ms(e_min) / ms(n_min),
            ms(e_med) / ms(n_med),
            ms(e_cpu) / ms(n_cpu)
        );
    }
}
