/* The daemon's shared state and the small facts about the process that /health and
 * /api/status report. */
#include "core/app.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

struct app astra;

const char *app_phase_name(enum app_phase p) {
  switch (p) {
  case APP_STARTING:
    return "starting";
  case APP_RUNNING:
    return "running";
  case APP_STOPPING:
    return "stopping";
  }
  return "?";
}

uint64_t app_uptime_s(void) {
  if (!astra.loop)
    return 0;
  return (uv_now(astra.loop) - astra.started_ms) / 1000;
}

void app_memory(uint64_t *rss, uint64_t *peak) {
  *rss = 0;
  *peak = 0;
  /* /proc is not the disk: reading it never waits on I/O */
  FILE *f = fopen("/proc/self/statm", "r");
  if (f) {
    unsigned long size, resident;
    if (fscanf(f, "%lu %lu", &size, &resident) == 2)
      *rss = (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
    fclose(f);
  }
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) == 0)
    *peak = (uint64_t)ru.ru_maxrss * 1024u;
}
