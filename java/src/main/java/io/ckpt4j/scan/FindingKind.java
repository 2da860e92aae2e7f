package io.ckpt4j.scan;

import io.ckpt4j.container.zip.ZipAnomaly;

/** What a scan can find in a file, each with the verdict it implies and what torch does. */
public enum FindingKind {
  NAME_MISMATCH(Verdict.UNSAFE, TorchBehaviour.LOADS,
      "a local header names another file than its central record"),
  DUPLICATE_NAME(Verdict.UNSAFE, TorchBehaviour.LOADS,
      "two entries share a name, or names that differ only in case"),
  ENCRYPTED(Verdict.UNSAFE, TorchBehaviour.REFUSES, "an entry is flagged as encrypted"),
  BAD_CRC(Verdict.UNSAFE, TorchBehaviour.LOADS,
      "an entry fails its CRC-32 (torch does not check it; Python's zipfile refuses it)"),
  HEADER_MISMATCH(Verdict.UNSAFE, TorchBehaviour.LOADS,
      "a local header's method, CRC or sizes disagree with its central record"),
  END_RECORDS_DISAGREE(Verdict.UNSAFE, TorchBehaviour.REFUSES,
      "end of central directory records disagree (zip64 against classic, or two of them)"),
  OUTSIDE_PREFIX(Verdict.UNSAFE, TorchBehaviour.REFUSES,
      "an entry lies outside the archive's top-level folder"),
  OVERLAP(Verdict.UNSAFE, TorchBehaviour.REFUSES, "entries share bytes"),
  UNACCOUNTED_BYTES(Verdict.UNSAFE, TorchBehaviour.REFUSES,
      "the central directory holds bytes no record accounts for"),
  CONTAINER_REFUSED(Verdict.UNSAFE, TorchBehaviour.REFUSES,
      "the container is corrupt or inconsistent"),
  ZIP_FLAGS(Verdict.UNSAFE, TorchBehaviour.REFUSES,
      "an entry has general-purpose flags torch.save never sets (torch's miniz refuses the"
      + " features they name; other readers ignore them)"),
  DEFLATED_PICKLE(Verdict.REVIEW, TorchBehaviour.LOADS,
      "a pickle torch reads is deflated (torch.save stores it): tools that read raw bytes see"
      + " none of it; this scan inflated and read it"),
  DEFLATED_STORAGE(Verdict.REVIEW, TorchBehaviour.LOADS,
      "tensor data is deflated (torch.save stores it): torch inflates it to its declared size,"
      + " which may be far more than the file; this scan checked the sizes and inflated nothing"),
  OUT_OF_ORDER(Verdict.UNSAFE, TorchBehaviour.LOADS,
      "the central directory lists entries in another order than they lie: tools that walk local"
      + " headers and tools that read the directory meet them differently"),
  HIDDEN_LOCAL_HEADER(Verdict.UNSAFE, TorchBehaviour.LOADS,
      "a local header that no central record names: tools that walk local headers see an"
      + " entry torch never opens"),
  PICKLE_BEFORE_ZIP(Verdict.UNSAFE, TorchBehaviour.RUNS_UNLESS_WEIGHTS_ONLY,
      "a pickle in front of a zip archive: torch sniffs the first bytes and unpickles it"),
  FAKE_TORCHSCRIPT(Verdict.UNSAFE, TorchBehaviour.REFUSES,
      "a constants.pkl next to data.pkl in an archive with no TorchScript code: it only looks"
      + " like TorchScript, and torch.load hands it to torch.jit.load"),
  TORCHSCRIPT(Verdict.REVIEW, TorchBehaviour.REFUSES,
      "a TorchScript archive: its code runs under torch.jit.load, which torch.load hands it to"),
  COMPILED_CODE(Verdict.REVIEW, TorchBehaviour.REFUSES,
      "an AOTInductor package: compiled native code that runs when it is loaded"),
  SETITEMS_ON_TENSOR(Verdict.UNSAFE, TorchBehaviour.REFUSES,
      "SETITEM(S), APPEND(S) or BUILD on a rebuilt tensor (CVE-2026-24747)"),
  SIZE_LIE(Verdict.UNSAFE, TorchBehaviour.REFUSES,
      "a tensor or storage declares more than its record holds, or sizes that overflow"),
  UNKNOWN_DTYPE(Verdict.UNSAFE, TorchBehaviour.REFUSES, "a storage type torch does not know"),
  DANGEROUS_CALL(Verdict.UNSAFE, TorchBehaviour.RUNS_UNLESS_WEIGHTS_ONLY,
      "a global that runs code or reaches the system is called"),
  DANGEROUS_GLOBAL(Verdict.UNSAFE, TorchBehaviour.LOADS_UNLESS_WEIGHTS_ONLY,
      "a global that runs code or reaches the system is referenced"),
  UNKNOWN_CALL(Verdict.UNSAFE, TorchBehaviour.RUNS_UNLESS_WEIGHTS_ONLY,
      "a function other than a known reconstructor is called, or a value built by the pickle"),
  INERT_CLASS(Verdict.REVIEW, TorchBehaviour.LOADS_UNLESS_WEIGHTS_ONLY,
      "classes outside torch's weights_only set are constructed (a whole pickled model, say)"),
  UNCHECKED_TENSORS(Verdict.REVIEW, TorchBehaviour.LOADS,
      "tensors or values of a kind ckpt4j does not read (quantized, sparse, big-endian, a value"
      + " that contains itself): their sizes were not checked"),
  MALFORMED(Verdict.UNSAFE, TorchBehaviour.REFUSES,
      "the loader refuses a pickle or record as one torch does not write"),
  DCP_DATA(Verdict.REVIEW, TorchBehaviour.LOADS,
      "a torch.distributed.checkpoint data file: read through its directory's .metadata, not on"
      + " its own"),
  INCOMPLETE(Verdict.INCOMPLETE, TorchBehaviour.REFUSES,
      "the scan stopped early: a limit, an unsupported feature, or a file it could not read");

  private final Verdict verdict;
  private final TorchBehaviour torch;
  private final String description;

  FindingKind(Verdict verdict, TorchBehaviour torch, String description) {
    this.verdict = verdict;
    this.torch = torch;
    this.description = description;
  }

  /** The verdict a file with this finding gets at least. */
  public Verdict verdict() {
    return verdict;
  }

  /** What torch 2.13 does with a file whose pickle torch reads holds this finding. */
  public TorchBehaviour torch() {
    return torch;
  }

  /** One line on what the finding is. */
  public String description() {
    return description;
  }

  /** The finding for a container trick the zip reader refused. */
  static FindingKind of(ZipAnomaly anomaly) {
    return valueOf(anomaly.name());
  }
}
