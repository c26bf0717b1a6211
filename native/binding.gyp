{
  "variables": {
    "berth_cflags": ["-Wall", "-Wextra", "-O2", "-fstack-protector-strong", "-D_GNU_SOURCE", "-D_FORTIFY_SOURCE=2"]
  },
  "targets": [
    {
      "target_name": "berth_native",
      "sources": ["src/addon/addon.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags_cc": ["<@(berth_cflags)", "-std=gnu++20", "-fexceptions"],
      "cflags_cc!": ["-fno-exceptions"]
    },
    {
      "target_name": "berth-unpack",
      "type": "executable",
      "sources": ["src/unpack/main.c", "src/unpack/records.c", "src/unpack/create.c", "src/unpack/remove.c", "src/unpack/report.c", "src/unpack/sandbox.c", "src/common/seccomp.c"],
      "cflags_c": ["<@(berth_cflags)", "-std=gnu11"],
      "ldflags": ["-Wl,-z,relro,-z,now"]
    },
    {
      "target_name": "berth-monitor",
      "type": "executable",
      "sources": [
        "src/monitor/main.c",
        "src/monitor/monitor.c",
        "src/monitor/container.c",
        "src/monitor/devices.c",
        "src/monitor/cgroup.c",
        "src/monitor/exec.c",
        "src/monitor/limits.c",
        "src/monitor/relay.c",
        "src/monitor/shift.c",
        "src/monitor/util.c",
        "src/common/process.c",
        "src/common/seccomp.c"
      ],
      "cflags_c": ["<@(berth_cflags)", "-std=gnu11"],
      "ldflags": ["-Wl,-z,relro,-z,now"]
    },
    {
      "target_name": "berth-proxy",
      "type": "executable",
      "sources": ["src/proxy/main.c", "src/proxy/address.c", "src/proxy/relay.c", "src/proxy/udp.c", "src/monitor/util.c", "src/common/process.c"],
      "cflags_c": ["<@(berth_cflags)", "-std=gnu11"],
      "ldflags": ["-Wl,-z,relro,-z,now"]
    }
  ]
}
