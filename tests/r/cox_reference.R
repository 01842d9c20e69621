# Reference fits of R's coxph(Surv(time, event) ~ x, ties = "efron") for tests/test_cox.py.
#
#   Rscript tests/r/cox_reference.R
#       regenerates tests/r/cox_reference.tsv (seeded cases made here);
#   Rscript tests/r/cox_reference.R IN.tsv OUT.tsv
#       reads cases (columns case, x, time, event) from IN.tsv and writes OUT.tsv (used
#       by the live test, which makes fresh random cases in Python).
#
# x, time and event are comma-separated numbers (15 significant digits), NA for missing;
# they are written first and parsed back, so R fits exactly the numbers in the file.
# Output columns:
#   case, x, time, event   the inputs
#   n, nevent              complete cases used by coxph and their events
#   coef, hr               coefficient and exp(coef) at the default control
#                          (eps = 1e-9, iter.max = 20); NA where R gives NA
#   iter                   Newton-Raphson iterations R used
#   coef_tight             coefficient refitted with eps = 1e-12, iter.max = 100
#   score                  summary(fit)$sctest["test"], the score statistic at beta = 0
#   df, p_sctest           summary(fit)$sctest["df"] and ["pvalue"]
#   p_score1               pchisq(score, 1, lower.tail = FALSE) (differs from p_sctest
#                          where coef is NA: R then uses df = 0 and reports p = 0)
#   warning                R's warnings of the default fit, "; "-separated, or empty
# Results are printed with 17 significant digits; NA where R gives none.

suppressPackageStartupMessages(library(survival))

fmt_num <- function(v) ifelse(is.na(v), "NA", sprintf("%.17g", v))
fmt_in <- function(v) paste(ifelse(is.na(v), "NA", sprintf("%.15g", v)), collapse = ",")
parse_vec <- function(s) suppressWarnings(as.numeric(strsplit(s, ",", fixed = TRUE)[[1]]))

one_case <- function(x, time, event) {
  warns <- character(0)
  fit <- withCallingHandlers(
    coxph(Surv(time, event) ~ x, ties = "efron"),
    warning = function(w) {
      warns <<- c(warns, trimws(conditionMessage(w)))
      invokeRestart("muffleWarning")
    })
  s <- summary(fit)
  tight <- suppressWarnings(coxph(Surv(time, event) ~ x, ties = "efron",
                                  control = coxph.control(eps = 1e-12, iter.max = 100)))
  coef <- unname(coef(fit))
  score <- unname(s$sctest["test"])
  list(n = s$n, nevent = s$nevent, coef = coef, hr = exp(coef), iter = fit$iter,
       coef_tight = unname(coef(tight)), score = score, df = unname(s$sctest["df"]),
       p_sctest = unname(s$sctest["pvalue"]),
       p_score1 = pchisq(score, 1, lower.tail = FALSE),
       warning = gsub("[\t\n]", " ", paste(warns, collapse = "; ")))
}

write_cases <- function(ids, xs, times, events, path) {
  # print the inputs, then fit what they parse back to
  xs_txt <- vapply(xs, fmt_in, "")
  t_txt <- vapply(times, fmt_in, "")
  e_txt <- vapply(events, fmt_in, "")
  res <- mapply(one_case, lapply(xs_txt, parse_vec), lapply(t_txt, parse_vec),
                lapply(e_txt, parse_vec), SIMPLIFY = FALSE)
  col <- function(name) vapply(res, function(r) r[[name]], numeric(1))
  lines <- c(
    paste("case", "x", "time", "event", "n", "nevent", "coef", "hr", "iter", "coef_tight",
          "score", "df", "p_sctest", "p_score1", "warning", sep = "\t"),
    paste(ids, xs_txt, t_txt, e_txt, col("n"), col("nevent"), fmt_num(col("coef")),
          fmt_num(col("hr")), col("iter"), fmt_num(col("coef_tight")),
          fmt_num(col("score")), col("df"), fmt_num(col("p_sctest")),
          fmt_num(col("p_score1")), vapply(res, function(r) r$warning, ""), sep = "\t"))
  writeLines(lines, path)
}

args <- commandArgs(trailingOnly = TRUE)
if (length(args) == 2) {
  d <- read.delim(args[1], colClasses = "character")
  write_cases(d$case, lapply(d$x, parse_vec), lapply(d$time, parse_vec),
              lapply(d$event, parse_vec), args[2])
  quit(save = "no")
}
if (length(args) != 0) stop("usage: cox_reference.R [IN.tsv OUT.tsv]")

set.seed(20261125)
ids <- character(0); xs <- list(); times <- list(); events <- list()
add <- function(id, x, time, event) {
  ids[[length(ids) + 1]] <<- id
  xs[[length(xs) + 1]] <<- x
  times[[length(times) + 1]] <<- time
  events[[length(events) + 1]] <<- event
}
# survival with log hazard ratio beta per unit of x; censoring independent of x
simulate <- function(n, beta, event_rate = 0.5) {
  x <- round(rnorm(n), 4)
  t_event <- rexp(n, rate = exp(beta * x))
  t_cens <- rexp(n, rate = (1 - event_rate) / event_rate)  # P(event) ~ event_rate
  list(x = x, time = pmin(t_event, t_cens), event = as.numeric(t_event <= t_cens))
}
for (n in c(30, 80, 150)) {
  for (beta in c(-0.8, 0, 0.35)) {
    # no ties: continuous times (6 significant digits)
    v <- simulate(n, beta)
    add(sprintf("noties_n%d_b%+.2f", n, beta), v$x, signif(v$time * 100, 6), v$event)
    # tied event times: times on a coarse grid, so several events share a time
    v <- simulate(n, beta, 0.7)
    add(sprintf("tiedevents_n%d_b%+.2f", n, beta), v$x, ceiling(v$time * 8), v$event)
    # tied censoring and events at the same times (and ties in x)
    v <- simulate(n, beta)
    add(sprintf("tiedcens_n%d_b%+.2f", n, beta), round(v$x, 1), ceiling(v$time * 5), v$event)
    # missing values in x, time and event
    v <- simulate(n, beta)
    x <- v$x; time <- ceiling(v$time * 20); event <- v$event
    x[sample(n, n %/% 8)] <- NA
    time[sample(n, max(1, n %/% 30))] <- NA
    event[sample(n, max(1, n %/% 30))] <- NA
    add(sprintf("missing_n%d_b%+.2f", n, beta), x, time, event)
  }
}
# strong effects, p from about 1e-19 (two near 1e-20) to 1e-45
for (k in 1:6) {
  n <- c(100, 150, 120, 150, 180, 200)[k]
  v <- simulate(n, c(1.6, -1.5, 1.6, -1.9, -2.2, 2.5)[k], 0.8)
  add(sprintf("strong_n%d_%d", n, k), v$x, signif(v$time * 100, 6), v$event)
}
# null effect (x independent of survival), with heavy ties
for (k in 1:3) {
  v <- simulate(120, 0, 0.6)
  add(sprintf("null_n120_%d", k), v$x, ceiling(v$time * c(100, 3, 1)[k]), v$event)
}
# large x scale, and x on a tiny scale far from 0 (centering matters)
v <- simulate(100, 0.5)
add("scale_big", round(v$x * 1e4, 0), signif(v$time, 6), v$event)
v <- simulate(100, -0.5)
add("scale_tiny_offset", 1000 + v$x * 1e-3, signif(v$time, 6), v$event)
# monotone likelihood: x orders the events perfectly, beta -> +-infinity. R stops with
# "Ran out of iterations and did not converge" and a huge coef, or (large x scale) with
# coef NA, sctest df 0 and p 0
for (k in 1:4) {
  n <- c(40, 60, 80, 100)[k]
  x <- round(rnorm(n), 4) * c(1, 1, 1, 100)[k]
  time <- rank(if (k %% 2 == 1) -x else x, ties.method = "first")
  event <- rbinom(n, 1, 0.6)
  add(sprintf("separation_n%d_%d", n, k), x, time, event)
}
# ... a fixed one where R ends with coef NA, df 0 and p 0 (its score statistic is right)
add("separation_na_n30", (1:30)^2, 30:1, rep(c(1, 1, 0, 0), length.out = 30))
# ... and a binary x whose group 1 has all its events before any of group 0: R stops with
# a coef near 20 and "Loglik converged before variable 1; coefficient may be infinite"
add("separation_binary_n40", rep(0:1, each = 20), c(21:40, 1:20),
    rep(c(1, 1, 0, 1, 1), length.out = 40))
# nearly monotone: times tied in groups of 3 break the perfect ordering, finite beta
x <- round(rnorm(100), 4)
event <- rbinom(100, 1, 0.6)
add("nearsep_tied_n100", x, ceiling(rank(x, ties.method = "first") / 3), event)

args_all <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args_all[grep("^--file=", args_all)])
out <- file.path(dirname(normalizePath(script)), "cox_reference.tsv")
write_cases(ids, xs, times, events, out)
