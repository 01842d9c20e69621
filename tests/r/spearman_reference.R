# Reference p-values of R's cor.test(x, y, method = "spearman") for tests/test_spearman.py.
#
#   Rscript tests/r/spearman_reference.R
#       regenerates tests/r/spearman_reference.tsv (seeded cases made here);
#   Rscript tests/r/spearman_reference.R IN.tsv OUT.tsv
#       reads cases (columns case, x, y) from IN.tsv and writes OUT.tsv (used by the
#       live test, which makes fresh random cases in Python).
#
# x and y are comma-separated numbers, NA for missing. Output columns: case, x, y,
# n (complete pairs), ties (either vector tied on the overlap), rho, p_r (cor.test
# default, exact = NULL: AS 89 when n <= 1290 and no ties), p_t (exact = FALSE: the t
# approximation). Numbers are printed with 17 significant digits; NA where R gives none.

fmt_num <- function(v) ifelse(is.na(v), "NA", sprintf("%.17g", v))
fmt_vec <- function(v) paste(fmt_num(v), collapse = ",")
parse_vec <- function(s) suppressWarnings(as.numeric(strsplit(s, ",", fixed = TRUE)[[1]]))

one_case <- function(x, y) {
  ok <- complete.cases(x, y)
  xo <- x[ok]
  yo <- y[ok]
  n <- length(xo)
  ties <- min(length(unique(xo)), length(unique(yo))) < n
  if (n < 3) return(c(n, ties, NA, NA, NA))
  ct_r <- suppressWarnings(cor.test(x, y, method = "spearman"))
  ct_t <- suppressWarnings(cor.test(x, y, method = "spearman", exact = FALSE))
  c(n, ties, unname(ct_r$estimate), ct_r$p.value, ct_t$p.value)
}

write_cases <- function(ids, xs, ys, path) {
  res <- t(mapply(one_case, xs, ys))
  lines <- c(
    paste("case", "x", "y", "n", "ties", "rho", "p_r", "p_t", sep = "\t"),
    paste(ids, vapply(xs, fmt_vec, ""), vapply(ys, fmt_vec, ""),
          res[, 1], ifelse(res[, 2] == 1, "TRUE", "FALSE"),
          fmt_num(res[, 3]), fmt_num(res[, 4]), fmt_num(res[, 5]), sep = "\t"))
  writeLines(lines, path)
}

args <- commandArgs(trailingOnly = TRUE)
if (length(args) == 2) {
  d <- read.delim(args[1], colClasses = "character")
  write_cases(d$case, lapply(d$x, parse_vec), lapply(d$y, parse_vec), args[2])
  quit(save = "no")
}
if (length(args) != 0) stop("usage: spearman_reference.R [IN.tsv OUT.tsv]")

set.seed(20261125)
ids <- character(0); xs <- list(); ys <- list()
add <- function(id, x, y) {
  ids[[length(ids) + 1]] <<- id
  xs[[length(xs) + 1]] <<- x
  ys[[length(ys) + 1]] <<- y
}
correlated <- function(n, rho) {
  x <- rnorm(n)
  list(x = x, y = rho * x + sqrt(max(0, 1 - rho^2)) * rnorm(n))
}
rhos <- c(-1, -0.95, -0.75, -0.55, -0.3, -0.1, 0, 0.05, 0.2, 0.45, 0.52, 0.6, 0.74, 0.9, 1)
# values are stored as integer ranks (no ties) or small integers (ties) to keep the file
# compact; only the ranks matter to the statistic
for (n in c(4, 5, 6, 7, 8, 9, 10, 11, 12, 15, 20, 30, 50, 100, 150, 300)) {
  for (rho in if (n < 300) rhos else c(-0.55, 0.1, 0.45)) {
    v <- correlated(n, rho)
    add(sprintf("clean_n%d_rho%+.2f", n, rho), rank(v$x), rank(v$y))
    add(sprintf("ties_n%d_rho%+.2f", n, rho), round(2 * v$x), round(2 * v$y))
    if (n >= 8) {
      x <- rank(v$x); y <- rank(v$y)
      x[sample(n, max(1, n %/% 8))] <- NA
      y[sample(n, max(1, n %/% 10))] <- NA
      add(sprintf("na_n%d_rho%+.2f", n, rho), x, y)
    }
  }
}
# around R's switch from AS 89 to the t approximation (n <= 1290 uses AS 89)
for (n in c(1000, 1289, 1290, 1291)) {
  for (rho in c(-0.2, 0.1)) {
    v <- correlated(n, rho)
    add(sprintf("large_n%d_rho%+.2f", n, rho), rank(v$x), rank(v$y))
  }
}
# constant on the overlap: no result
add("const_x", c(rep(1, 10), 2), c(1:10, NA))
args_all <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args_all[grep("^--file=", args_all)])
out <- file.path(dirname(normalizePath(script)), "spearman_reference.tsv")
write_cases(ids, xs, ys, out)
