{
  "variables": {
    "berth_cflags": ["-Wall", "-Wextra", "-O2", "-fstack-protector-strong", "-D_GNU_SOURCE", "-D_FORTIFY_SOURCE=2"]
  },
  "targets": [
    {
      "target_name": "berth-unpack",
      "type": "executable",
      "sources": ["src/unpack/main.c", "src/unpack/records.c", "src/unpack/create.c", "src/unpack/remove.c", "src/unpack/report.c"],
      "cflags_c": ["<@(berth_cflags)", "-std=gnu11"],
      "ldflags": ["-Wl,-z,relro,-z,now"]
    }
  ]
}
