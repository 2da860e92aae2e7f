package io.ckpt4j.pickle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.Refusals;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The committed hostile pickles (tests/fixtures/hostile, see SOURCES.md there), read with only
 * Python's harmless built-ins allowed: each is refused with a CheckpointException, quickly, and
 * no global outside the built-ins is ever handed out; the benign control loads. Python's own
 * verdict on each, with the exact global refused, is checked by PickleCasesTest (hostile__*).
 */
class HostileFixturesTest {
  private static final String BENIGN = "picklescan__tests_data_benign0_v4.pkl";
  /** The one fixture that is no pickle at all; every other names a global ckpt4j refuses. */
  private static final String NOT_A_PICKLE = "picklescan__tests_data_not_a_pickle.bin";
  private static final Duration QUICKLY = Duration.ofSeconds(2);

  static Path hostileDir() {
    return Path.of(System.getProperty("ckpt4j.fixtures", "tests/fixtures"), "hostile");
  }

  @TestFactory
  List<DynamicTest> everyHostilePickleIsRefused() throws IOException {
    List<Path> files;
    try (Stream<Path> list = Files.list(hostileDir())) {
      files = list.filter(p -> p.toString().endsWith(".pkl") || p.toString().endsWith(".bin"))
          .sorted().toList();
    }
    assertEquals(12, files.size(), "the .pkl and .bin fixtures of SOURCES.md");
    List<DynamicTest> tests = new ArrayList<>();
    for (Path file : files) {
      tests.add(DynamicTest.dynamicTest(file.getFileName().toString(), () -> check(file)));
    }
    return tests;
  }

  private static void check(Path file) throws IOException {
    byte[] data = Files.readAllBytes(file);
    String name = file.getFileName().toString();
    List<String> handedOut = new ArrayList<>();
    GlobalResolver spy = (module, name1) -> {
      Object value = GlobalResolver.pythonBuiltins().resolve(module, name1);
      handedOut.add(module + "." + name1); // only reached when the built-ins allowed it
      return value;
    };
    PickleOptions options = PickleOptions.builder()
        .resolver(spy.orElse(GlobalResolver.refuseAll()))
        .where(name)
        .build();
    if (name.equals(BENIGN)) {
      Object value = assertTimeoutPreemptively(QUICKLY, () -> PickleReader.load(data, options));
      assertEquals(3, assertInstanceOf(List.class, value).size());
      return;
    }
    Kind kind = name.equals(NOT_A_PICKLE) ? Kind.MALFORMED_PICKLE : Kind.REFUSED_GLOBAL;
    CheckpointException e = Refusals.assertRefused(kind,
        () -> assertTimeoutPreemptively(QUICKLY, () -> PickleReader.load(data, options)), name);
    assertTrue(e.getMessage().contains(name), "the message names the file: " + e.getMessage());
    for (String global : handedOut) {
      assertTrue(global.startsWith("builtins.") || global.startsWith("collections.")
          || global.startsWith("_codecs.") || global.startsWith("copyreg."), global);
    }
  }
}
