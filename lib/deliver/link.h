/*
 * Signed, expiring download links in the format of nginx's secure_link
 * module, so the web server can hand out an archive only to holders of a
 * link from the mail. The nginx side (docs/nginx-backup-location.conf):
 *   secure_link $arg_md5,$arg_expires;
 *   secure_link_md5 "$secure_link_expires$uri <secret>";
 */
#ifndef BK_LINK_H
#define BK_LINK_H

/*
 * Check BACKUP_LINK_BASE-style base URL ("https://host[:port]/path/", only
 * http or https, no query, fragment, '%' or spaces) and a secret usable
 * literally in nginx.conf (16..256 of A-Z a-z 0-9 . _ ~ + / = -).
 * 0, or -1 with a message naming base_var or secret_var.
 */
int bk_link_check(const char *base, const char *secret, const char *base_var,
		  const char *secret_var);

/*
 * The link to file `name` (a base name) under base, valid until `expires`
 * (unix seconds): base + name + "?md5=M&expires=E" where M is the base64url
 * (no padding) MD5 of "<expires><uri> <secret>" and uri the path nginx sees
 * ($uri: the base's path, decoded, then name). Caller frees; NULL with the
 * error slot set.
 */
char *bk_link_make(const char *base, const char *secret, const char *name, long long expires);

/* Can a large backup's mail carry a link: S3 configured, or BACKUP_LINK_BASE? */
int bk_link_configured(void);

/*
 * The download link of `name` (the file mailed: the archive, or its .age)
 * in a mail sent at now. With S3 configured, a presigned GET URL of its
 * object in the bucket (the copy bk-run uploaded, which outlives this host),
 * valid BACKUP_LINK_TTL_HOURS capped at 7 days, S3's limit; else the nginx
 * link under BACKUP_LINK_BASE. *expires gets the unix seconds it works
 * until. Caller frees; NULL with the error slot set.
 */
char *bk_link_for(const char *name, long long now, long long *expires);

/* How a large backup would be mailed, for bk-mail --test: "presigned S3 link
 * to s3://bucket/prefix/ (valid 72 h)", "link under BASE (valid 72 h)" or the
 * path on this host. Caller frees. */
char *bk_link_describe(void);

#endif
