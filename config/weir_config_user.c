/* "user NAME [group GROUP]": the account weir-dataplane and weir-control
 * become once set up (docs/deploy.md).  Resolved while the file is read, so
 * that --check finds a missing account. */
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>

#include "weir_config_pvt.h"

void
weir_config_cmd_user(struct weir_config_ctx *ctx, char **t, int n)
{
	struct weir_config *cfg = ctx->cfg;
	if ((n != 2 && n != 4) || (n == 4 && strcmp(t[2], "group") != 0)) {
		weir_diag_fail(&ctx->d, "expected \"user NAME [group GROUP]\"");
		return;
	}
	const struct passwd *pw = getpwnam(t[1]);
	const struct group *gr = n == 4 ? getgrnam(t[3]) : NULL;
	if (pw == NULL)
		weir_diag_fail(&ctx->d, "user \"%s\" does not exist: create it (useradd --system --no-create-home "
					"--shell /usr/sbin/nologin %s) or name another",
			       t[1], t[1]);
	else if (pw->pw_uid == 0)
		weir_diag_fail(&ctx->d, "user \"%s\" is root: name the service's own account, or leave \"user\" out to "
					"stay root",
			       t[1]);
	else if (n == 4 && gr == NULL)
		weir_diag_fail(&ctx->d, "group \"%s\" does not exist: create it (groupadd --system %s) or name another",
			       t[3], t[3]);
	else if (weir_config_word(ctx, "user name", t[1], cfg->run_user, sizeof(cfg->run_user)) == 0) {
		cfg->line_user = ctx->d.line;
		cfg->run_uid = pw->pw_uid;
		cfg->run_gid = gr ? gr->gr_gid : pw->pw_gid;
	}
}
