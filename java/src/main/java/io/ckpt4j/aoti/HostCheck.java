package io.ckpt4j.aoti;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.layout.pt2.AotiPackage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Whether this machine can run a package's compiled code, from its metadata: the operating
 * system ({@code AOTI_PLATFORM}), the machine ({@code AOTI_MACHINE}) and the CPU instruction sets
 * ({@code AOTI_CPU_ISA}), the last against the flags Linux lists in {@code /proc/cpuinfo}. Code
 * built with {@code -march} for instructions this CPU lacks would die of SIGILL inside a call;
 * it is refused at load instead.
 */
final class HostCheck {
  static final Path CPUINFO = Path.of("/proc/cpuinfo");
  private static final String FLAGS_LINE = "flags";
  /** The cpuinfo flags each instruction-set name of Inductor's needs (others: its lower case). */
  private static final Map<String, List<String>> ISA_FLAGS = Map.of(
      "AVX2", List.of("avx2", "fma"),
      "AVX512", List.of("avx512f", "avx512dq", "avx512vl", "avx512bw"),
      "NEON", List.of(), "ASIMD", List.of(), "SVE256", List.of("sve"), "SVE", List.of("sve"));
  private static final Map<String, String> MACHINES = Map.of("amd64", "x86_64",
      "x86_64", "x86_64", "aarch64", "aarch64", "arm64", "aarch64");

  private HostCheck() {}

  /** Refuses {@code pkg} when its metadata names another OS, machine or a missing ISA. */
  static void require(AotiPackage pkg, Path file) throws CheckpointException {
    String platform = pkg.metadata().get(AotiPackage.PLATFORM_KEY);
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    if (platform != null && !platform.isBlank()
        && !os.startsWith(platform.toLowerCase(Locale.ROOT))) {
      throw refusal(file, "was compiled for " + platform + ", and this is " + os);
    }
    String machine = pkg.metadata().get(AotiPackage.MACHINE_KEY);
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    String here = MACHINES.getOrDefault(arch, arch);
    if (machine != null && !machine.isBlank() && !machine.equalsIgnoreCase(here)) {
      throw refusal(file, "was compiled for " + machine + " machines, and this one is " + here);
    }
    Set<String> flags = cpuFlags();
    if (flags.isEmpty()) return; // no /proc/cpuinfo: nothing to compare with
    List<String> missing = new ArrayList<>();
    for (String isa : pkg.cpuIsa()) {
      for (String flag : ISA_FLAGS.getOrDefault(isa, List.of(isa.toLowerCase(Locale.ROOT)))) {
        if (!flags.contains(flag)) missing.add(isa + " (" + flag + ")");
      }
    }
    if (!missing.isEmpty()) {
      throw refusal(file, "uses CPU instructions this CPU lacks: " + String.join(", ", missing)
          + " (" + AotiPackage.CPU_ISA_KEY + " '" + String.join(" ", pkg.cpuIsa()) + "')");
    }
  }

  private static CheckpointException refusal(Path file, String what) {
    return new CheckpointException(Kind.UNSUPPORTED_FORMAT, "AOTInductor package " + file + " "
        + what + ": its compiled code cannot run here; compile the ExportedProgram again"
        + " (aoti_compile_and_package) on a machine like this one");
  }

  /** The CPU's flags from /proc/cpuinfo; empty where there is none. */
  static Set<String> cpuFlags() {
    try {
      for (String line : Files.readAllLines(CPUINFO, StandardCharsets.UTF_8)) {
        int colon = line.indexOf(':');
        if (colon > 0 && line.substring(0, colon).strip().equals(FLAGS_LINE)) {
          return new HashSet<>(List.of(line.substring(colon + 1).strip().split("\\s+")));
        }
      }
    } catch (IOException | SecurityException e) {
      // not Linux, or not readable: the check is skipped
    }
    return Set.of();
  }
}
