// rus CMD [ARG...]: runs CMD, waits for it, and appends to the file $RUS_OUT the CPU time
// (user+system, microseconds) of CMD and every descendant it waited for. Under a defender it
// tells the program's own CPU time from the defender's: the defender's run reports the sum of
// both (budget.py).
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
	if (argc < 2) {
		fprintf(stderr, "usage: rus CMD [ARG...]\n");
		return 2;
	}
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		execvp(argv[1], argv + 1);
		perror(argv[1]);
		_exit(127);
	}
	int st;
	struct rusage ru;
	if (wait4(pid, &st, 0, &ru) < 0) {
		perror("wait4");
		return 1;
	}
	const char *out = getenv("RUS_OUT");
	FILE *f = out ? fopen(out, "a") : stderr;
	if (!f) {
		perror(out);
		return 1;
	}
	fprintf(f, "%ld\n", (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000L + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
	fclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
