
use builtin;
use str;

set edit:completion:arg-completer[milly] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'milly'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'milly'= {
            cand --database-url 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --retry-attempts 'Attempts for a write that conflicts with other writers, first included'
            cand --retry-base-delay-ms 'Cap of the first random wait after a conflict; it doubles per attempt'
            cand --retry-max-delay-ms 'Longest single wait between attempts'
            cand --lock-timeout-ms 'Longest time one command waits for other processes'' locks, retries included'
            cand --connect-timeout-ms 'Longest time connecting to a MySQL server may take, TLS and login included'
            cand --actor 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]'
            cand --idempotency-key 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)'
            cand --json 'Same as --output json (together with another --output, a usage error)'
            cand --dry-run 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
            cand -v 'Report retries and other details on stderr'
            cand --verbose 'Report retries and other details on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand product 'Create, change, archive, list and show products'
            cand stock 'Change stock and read its ledger'
            cand discount 'Set, list and clear product discounts'
            cand coupon 'Create, list, show and deactivate customer coupons'
            cand import 'Load products or coupons in bulk from NDJSON or CSV (all or nothing)'
            cand db 'Apply migrations and inspect the database'
            cand completions 'Print a shell completion script'
            cand man 'Print the manual page (roff) of milly or of one command'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'milly;product'= {
            cand --database-url 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --retry-attempts 'Attempts for a write that conflicts with other writers, first included'
            cand --retry-base-delay-ms 'Cap of the first random wait after a conflict; it doubles per attempt'
            cand --retry-max-delay-ms 'Longest single wait between attempts'
            cand --lock-timeout-ms 'Longest time one command waits for other processes'' locks, retries included'
            cand --connect-timeout-ms 'Longest time connecting to a MySQL server may take, TLS and login included'
            cand --actor 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]'
            cand --idempotency-key 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)'
            cand --json 'Same as --output json (together with another --output, a usage error)'
            cand --dry-run 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
            cand -v 'Report retries and other details on stderr'
            cand --verbose 'Report retries and other details on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand create 'Create a product with its opening stock'
            cand list 'List products, oldest first, with stock and discounted price'
            cand show 'Show one product priced for a customer at a moment'
            cand update 'Change a product''s name, description or price (recorded in its history)'
            cand archive 'Retire a product: hidden from lists, read-only (repeating it is harmless)'
            cand unarchive 'Make an archived product listed and writable again'
            cand history 'Every change to a product, oldest first, with when and who'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'milly;product;create'= {
            cand --database-url 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --retry-attempts 'Attempts for a write that conflicts with other writers, first included'
            cand --retry-base-delay-ms 'Cap of the first random wait after a conflict; it doubles per attempt'
            cand --retry-max-delay-ms 'Longest single wait between attempts'
            cand --lock-timeout-ms 'Longest time one command waits for other processes'' locks, retries included'
            cand --connect-timeout-ms 'Longest time connecting to a MySQL server may take, TLS and login included'
            cand --actor 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]'
            cand --idempotency-key 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)'
            cand --name 'Name, 1 to 200 characters (trimmed)'
            cand --price 'Price with at most 2 decimals, e.g. 10000 or 17.49'
            cand --description 'Free text, at most 2000 characters'
            cand --stock 'Opening stock, a whole number'
            cand --json 'Same as --output json (together with another --output, a usage error)'
            cand --dry-run 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
            cand -v 'Report retries and other details on stderr'
            cand --verbose 'Report retries and other details on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'milly;product;list'= {
            cand --database-url 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --retry-attempts 'Attempts for a write that conflicts with other writers, first included'
            cand --retry-base-delay-ms 'Cap of the first random wait after a conflict; it doubles per attempt'
            cand --retry-max-delay-ms 'Longest single wait between attempts'
            cand --lock-timeout-ms 'Longest time one command waits for other processes'' locks, retries included'
            cand --connect-timeout-ms 'Longest time connecting to a MySQL server may take, TLS and login included'
            cand --actor 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]'
            cand --idempotency-key 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)'
            cand --name 'Only names containing this text (case-insensitive; % and _ are literal)'
            cand --page-size 'Products per page'
            cand --page 'Page number, from 1'
            cand --at 'Price the products at this time instead of now (RFC 3339, a date, today, -7d, +30d …)'
            cand --json 'Same as --output json (together with another --output, a usage error)'
            cand --dry-run 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
            cand -v 'Report retries and other details on stderr'
            cand --verbose 'Report retries and other details on stderr'
            cand --all 'Every matching product, streamed as it is read (instead of one page)'
            cand --include-archived 'List archived products too'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'milly;product;show'= {
            cand --database-url 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --retry-attempts 'Attempts for a write that conflicts with other writers, first included'
            cand --retry-base-delay-ms 'Cap of the first random wait after a conflict; it doubles per attempt'
            cand --retry-max-delay-ms 'Longest single wait between attempts'
            cand --lock-timeout-ms 'Longest time one command waits for other processes'' locks, retries included'
            cand --connect-timeout-ms 'Longest time connecting to a MySQL server may take, TLS and login included'
            cand --actor 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]'
            cand --idempotency-key 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)'
            cand --user 'Apply this customer''s best valid coupon'
            cand --at 'Price the product at this time instead of now (RFC 3339, a date, today, -7d, +30d …)'
            cand --json 'Same as --output json (together with another --output, a usage error)'
            cand --dry-run 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
            cand -v 'Report retries and other details on stderr'
            cand --verbose 'Report retries and other details on stderr'
            cand --explain 'Add the pricing steps: list price, discount, coupon, final price'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'milly;product;update'= {
            cand --database-url 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --retry-attempts 'Attempts for a write that conflicts with other writers, first included'
            cand --retry-base-delay-ms 'Cap of the first random wait after a conflict; it doubles per attempt'
            cand --retry-max-delay-ms 'Longest single wait between attempts'
            cand --lock-timeout-ms 'Longest time one command waits for other processes'' locks, retries included'
            cand --connect-timeout-ms 'Longest time connecting to a MySQL server may take, TLS and login included'
            cand --actor 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]'
            cand --idempotency-key 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)'
            cand --name 'New name, 1 to 200 characters (trimmed)'
            cand --description 'New description, at most 2000 characters ("" empties it)'
            cand --price 'New price with at most 2 decimals; prices shown --at an earlier time keep the price in force then'
            cand --json 'Same as --output json (together with another --output, a usage error)'
            cand --dry-run 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
            cand -v 'Report retries and other details on stderr'
            cand --verbose 'Report retries and other details on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'milly;product;archive'= {
            cand --database-url 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --retry-attempts 'Attempts for a write that conflicts with other writers, first included'
            cand --retry-base-delay-ms 'Cap of the first random wait after a conflict; it doubles per attempt'
            cand --retry-max-delay-ms 'Longest single wait between attempts'
            cand --lock-timeout-ms 'Longest time one command waits for other processes'' locks, retries included'
            cand --connect-timeout-ms 'Longest time connecting to a MySQL server may take, TLS and login included'
            cand --actor 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]'
            cand --idempotency-key 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)'
            cand --json 'Same as --output json (together with another --output, a usage error)'
            cand --dry-run 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
            cand -v 'Report retries and other details on stderr'
            cand --verbose 'Report retries and other details on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'milly;product;unarchive'= {
            cand --database-url 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --retry-attempts 'Attempts for a write that conflicts with other writers, first included'
            cand --retry-base-delay-ms 'Cap of the first random wait after a conflict; it doubles per attempt'
            cand --retry-max-delay-ms 'Longest single wait between attempts'
            cand --lock-timeout-ms 'Longest time one command waits for other processes'' locks, retries included'
            cand --connect-timeout-ms 'Longest time connecting to a MySQL server may take, TLS and login included'
            cand --actor 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]'
            cand --idempotency-key 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)'
            cand --json 'Same as --output json (together with another --output, a usage error)'
            cand --dry-run 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
            cand -v 'Report retries and other details on stderr'
            cand --verbose 'Report retries and other details on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'milly;product;history'= {
            cand --database-url 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --retry-attempts 'Attempts for a write that conflicts with other writers, first included'
            cand --retry-base-delay-ms 'Cap of the first random wait after a conflict; it doubles per attempt'
            cand --retry-max-delay-ms 'Longest single wait between attempts'
            cand --lock-timeout-ms 'Longest time one command waits for other processes'' locks, retries included'
            cand --connect-timeout-ms 'Longest time connecting to a MySQL server may take, TLS and login included'
            cand --actor 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]'
            cand --idempotency-key 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)'
            cand --json 'Same as --output json (together with another --output, a usage error)'
            cand --dry-run 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
            cand -v 'Report retries and other details on stderr'
            cand --verbose 'Report retries and other details on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'milly;product;help'= {
            cand create 'Create a product with its opening stock'
            cand list 'List products, oldest first, with stock and discounted price'
            cand show 'Show one product priced for a customer at a moment'
            cand update 'Change a product''s name, description or price (recorded in its history)'
            cand archive 'Retire a product: hidden from lists, read-only (repeating it is harmless)'
            cand unarchive 'Make an archived product listed and writable again'
            cand history 'Every change to a product, oldest first, with when and who'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'milly;product;help;create'= {
        }
        &'milly;product;help;list'= {
        }
        &'milly;product;help;show'= {
        }
        &'milly;product;help;update'= {
        }
        &'milly;product;help;archive'= {
        }
        &'milly;product;help;unarchive'= {
        }
        &'milly;product;help;history'= {
        }
        &'milly;product;help;help'= {
        }
        &'milly;stock'= {
            cand --database-url 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --retry-attempts 'Attempts for a write that conflicts with other writers, first included'
            cand --retry-base-delay-ms 'Cap of the first random wait after a conflict; it doubles per attempt'
            cand --retry-max-delay-ms 'Longest single wait between attempts'
            cand --lock-timeout-ms 'Longest time one command waits for other processes'' locks, retries included'
            cand --connect-timeout-ms 'Longest time connecting to a MySQL server may take, TLS and login included'
            cand --actor 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]'
            cand --idempotency-key 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)'
            cand --json 'Same as --output json (together with another --output, a usage error)'
            cand --dry-run 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
            cand -v 'Report retries and other details on stderr'
            cand --verbose 'Report retries and other details on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand adjust 'Add to or take from a product''s stock (retried on concurrent writes)'
            cand revert 'Undo one ledger row: append the opposite change, linked to it (`reverts`). Exit 4 if it would take stock below zero (insufficient_stock) or the row is already reverted (already_reverted)'
            cand history 'Print a product''s stock ledger, or every product''s movements, oldest first (streamed)'
            cand verify 'Check every ledger (or one): versions 1..n without gaps, each total the previous total plus the change, never below zero, ending at the version its product records as the latest. Exit 0 with a summary, or exit 4 (ledger_inconsistent) with one row per problem'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'milly;stock;adjust'= {
            cand --database-url 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --retry-attempts 'Attempts for a write that conflicts with other writers, first included'
            cand --retry-base-delay-ms 'Cap of the first random wait after a conflict; it doubles per attempt'
            cand --retry-max-delay-ms 'Longest single wait between attempts'
            cand --lock-timeout-ms 'Longest time one command waits for other processes'' locks, retries included'
            cand --connect-timeout-ms 'Longest time connecting to a MySQL server may take, TLS and login included'
            cand --actor 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]'
            cand --idempotency-key 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)'
            cand --change 'Change, e.g. +50 or -20 (both `--change -20` and `--change=-20` work)'
            cand --reason 'Why, recorded on the ledger row (at most 200 characters)'
            cand --expect-version 'Apply only if the product''s latest ledger version is still V; otherwise exit 4 (version_mismatch) naming the current version, without retrying'
            cand --json 'Same as --output json (together with another --output, a usage error)'
            cand --dry-run 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
            cand -v 'Report retries and other details on stderr'
            cand --verbose 'Report retries and other details on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'milly;stock;revert'= {
            cand --database-url 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --retry-attempts 'Attempts for a write that conflicts with other writers, first included'
            cand --retry-base-delay-ms 'Cap of the first random wait after a conflict; it doubles per attempt'
            cand --retry-max-delay-ms 'Longest single wait between attempts'
            cand --lock-timeout-ms 'Longest time one command waits for other processes'' locks, retries included'
            cand --connect-timeout-ms 'Longest time connecting to a MySQL server may take, TLS and login included'
            cand --actor 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]'
            cand --idempotency-key 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)'
            cand --reason 'Why, recorded on the new ledger row (at most 200 characters)'
            cand --json 'Same as --output json (together with another --output, a usage error)'
            cand --dry-run 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
            cand -v 'Report retries and other details on stderr'
            cand --verbose 'Report retries and other details on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'milly;stock;history'= {
            cand --database-url 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --retry-attempts 'Attempts for a write that conflicts with other writers, first included'
            cand --retry-base-delay-ms 'Cap of the first random wait after a conflict; it doubles per attempt'
            cand --retry-max-delay-ms 'Longest single wait between attempts'
            cand --lock-timeout-ms 'Longest time one command waits for other processes'' locks, retries included'
            cand --connect-timeout-ms 'Longest time connecting to a MySQL server may take, TLS and login included'
            cand --actor 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]'
            cand --idempotency-key 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)'
            cand --since 'Only movements at or after this time (RFC 3339, a date, today, -7d, +30d …)'
            cand --until 'Only movements before this time (RFC 3339, a date, today, -7d …); with --since, the half-open span [since, until)'
            cand --limit 'At most this many movements (the oldest first)'
            cand --tail 'Only the newest N movements, still printed oldest first'
            cand --json 'Same as --output json (together with another --output, a usage error)'
            cand --dry-run 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
            cand -v 'Report retries and other details on stderr'
            cand --verbose 'Report retries and other details on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'milly;stock;verify'= {
            cand --database-url 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --retry-attempts 'Attempts for a write that conflicts with other writers, first included'
            cand --retry-base-delay-ms 'Cap of the first random wait after a conflict; it doubles per attempt'
            cand --retry-max-delay-ms 'Longest single wait between attempts'
            cand --lock-timeout-ms 'Longest time one command waits for other processes'' locks, retries included'
            cand --connect-timeout-ms 'Longest time connecting to a MySQL server may take, TLS and login included'
            cand --actor 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]'
            cand --idempotency-key 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)'
            cand --json 'Same as --output json (together with another --output, a usage error)'
            cand --dry-run 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
            cand -v 'Report retries and other details on stderr'
            cand --verbose 'Report retries and other details on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'milly;stock;help'= {
            cand adjust 'Add to or take from a product''s stock (retried on concurrent writes)'
            cand revert 'Undo one ledger row: append the opposite change, linked to it (`reverts`). Exit 4 if it would take stock below zero (insufficient_stock) or the row is already reverted (already_reverted)'
            cand history 'Print a product''s stock ledger, or every product''s movements, oldest first (streamed)'
            cand verify 'Check every ledger (or one): versions 1..n without gaps, each total the previous total plus the change, never below zero, ending at the version its product records as the latest. Exit 0 with a summary, or exit 4 (ledger_inconsistent) with one row per problem'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'milly;stock;help;adjust'= {
        }
        &'milly;stock;help;revert'= {
        }
        &'milly;stock;help;history'= {
        }
        &'milly;stock;help;verify'= {
        }
        &'milly;stock;help;help'= {
        }
        &'milly;discount'= {
            cand --database-url 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --retry-attempts 'Attempts for a write that conflicts with other writers, first included'
            cand --retry-base-delay-ms 'Cap of the first random wait after a conflict; it doubles per attempt'
            cand --retry-max-delay-ms 'Longest single wait between attempts'
            cand --lock-timeout-ms 'Longest time one command waits for other processes'' locks, retries included'
            cand --connect-timeout-ms 'Longest time connecting to a MySQL server may take, TLS and login included'
            cand --actor 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]'
            cand --idempotency-key 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)'
            cand --json 'Same as --output json (together with another --output, a usage error)'
            cand --dry-run 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
            cand -v 'Report retries and other details on stderr'
            cand --verbose 'Report retries and other details on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand set 'Give a product a discount over a window, replacing those it overlaps from its start'
            cand list 'List discounts, oldest first, whatever their status'
            cand clear 'Switch off a product''s running and scheduled discounts (none is not an error)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'milly;discount;set'= {
            cand --database-url 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --retry-attempts 'Attempts for a write that conflicts with other writers, first included'
            cand --retry-base-delay-ms 'Cap of the first random wait after a conflict; it doubles per attempt'
            cand --retry-max-delay-ms 'Longest single wait between attempts'
            cand --lock-timeout-ms 'Longest time one command waits for other processes'' locks, retries included'
            cand --connect-timeout-ms 'Longest time connecting to a MySQL server may take, TLS and login included'
            cand --actor 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]'
            cand --idempotency-key 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)'
            cand --percent 'Percentage off, more than 0 and at most 100, e.g. 20 or 12.5'
            cand --from 'Start of the discount (RFC 3339, a date, today, -7d, +30d …) [default: now]'
            cand --until 'End of the discount, exclusive (RFC 3339, a date, today, -7d, +30d …) [default: 30 days after --from]'
            cand --json 'Same as --output json (together with another --output, a usage error)'
            cand --dry-run 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
            cand -v 'Report retries and other details on stderr'
            cand --verbose 'Report retries and other details on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'milly;discount;list'= {
            cand --database-url 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --retry-attempts 'Attempts for a write that conflicts with other writers, first included'
            cand --retry-base-delay-ms 'Cap of the first random wait after a conflict; it doubles per attempt'
            cand --retry-max-delay-ms 'Longest single wait between attempts'
            cand --lock-timeout-ms 'Longest time one command waits for other processes'' locks, retries included'
            cand --connect-timeout-ms 'Longest time connecting to a MySQL server may take, TLS and login included'
            cand --actor 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]'
            cand --idempotency-key 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)'
            cand --page-size 'Discounts per page'
            cand --page 'Page number, from 1'
            cand --json 'Same as --output json (together with another --output, a usage error)'
            cand --dry-run 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
            cand -v 'Report retries and other details on stderr'
            cand --verbose 'Report retries and other details on stderr'
            cand --active 'Only discounts running now (status running)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'milly;discount;clear'= {
            cand --database-url 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --retry-attempts 'Attempts for a write that conflicts with other writers, first included'
            cand --retry-base-delay-ms 'Cap of the first random wait after a conflict; it doubles per attempt'
            cand --retry-max-delay-ms 'Longest single wait between attempts'
            cand --lock-timeout-ms 'Longest time one command waits for other processes'' locks, retries included'
            cand --connect-timeout-ms 'Longest time connecting to a MySQL server may take, TLS and login included'
            cand --actor 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]'
            cand --idempotency-key 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)'
            cand --json 'Same as --output json (together with another --output, a usage error)'
            cand --dry-run 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
            cand -v 'Report retries and other details on stderr'
            cand --verbose 'Report retries and other details on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'milly;discount;help'= {
            cand set 'Give a product a discount over a window, replacing those it overlaps from its start'
            cand list 'List discounts, oldest first, whatever their status'
            cand clear 'Switch off a product''s running and scheduled discounts (none is not an error)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'milly;discount;help;set'= {
        }
        &'milly;discount;help;list'= {
        }
        &'milly;discount;help;clear'= {
        }
        &'milly;discount;help;help'= {
        }
        &'milly;coupon'= {
            cand --database-url 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --retry-attempts 'Attempts for a write that conflicts with other writers, first included'
            cand --retry-base-delay-ms 'Cap of the first random wait after a conflict; it doubles per attempt'
            cand --retry-max-delay-ms 'Longest single wait between attempts'
            cand --lock-timeout-ms 'Longest time one command waits for other processes'' locks, retries included'
            cand --connect-timeout-ms 'Longest time connecting to a MySQL server may take, TLS and login included'
            cand --actor 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]'
            cand --idempotency-key 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)'
            cand --json 'Same as --output json (together with another --output, a usage error)'
            cand --dry-run 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
            cand -v 'Report retries and other details on stderr'
            cand --verbose 'Report retries and other details on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand create 'Create a coupon for one customer'
            cand deactivate 'Stop a coupon from applying (repeating it is harmless)'
            cand list 'List coupons, oldest first'
            cand show 'Show one coupon'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'milly;coupon;create'= {
            cand --database-url 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --retry-attempts 'Attempts for a write that conflicts with other writers, first included'
            cand --retry-base-delay-ms 'Cap of the first random wait after a conflict; it doubles per attempt'
            cand --retry-max-delay-ms 'Longest single wait between attempts'
            cand --lock-timeout-ms 'Longest time one command waits for other processes'' locks, retries included'
            cand --connect-timeout-ms 'Longest time connecting to a MySQL server may take, TLS and login included'
            cand --actor 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]'
            cand --idempotency-key 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)'
            cand --user 'The customer''s external id (1 to 64 characters, no blanks)'
            cand --percent 'Percentage off, more than 0 and at most 100, e.g. 20 or 12.5'
            cand --valid-to 'End of validity, exclusive (RFC 3339, a date, today, -7d, +30d …)'
            cand --valid-from 'Start of validity (RFC 3339, a date, today, -7d, +30d …) [default: now]'
            cand --code 'Code, 3 to 32 letters, digits, - or _, unique regardless of case [default: random]'
            cand --json 'Same as --output json (together with another --output, a usage error)'
            cand --dry-run 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
            cand -v 'Report retries and other details on stderr'
            cand --verbose 'Report retries and other details on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'milly;coupon;deactivate'= {
            cand --database-url 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --retry-attempts 'Attempts for a write that conflicts with other writers, first included'
            cand --retry-base-delay-ms 'Cap of the first random wait after a conflict; it doubles per attempt'
            cand --retry-max-delay-ms 'Longest single wait between attempts'
            cand --lock-timeout-ms 'Longest time one command waits for other processes'' locks, retries included'
            cand --connect-timeout-ms 'Longest time connecting to a MySQL server may take, TLS and login included'
            cand --actor 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]'
            cand --idempotency-key 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)'
            cand --json 'Same as --output json (together with another --output, a usage error)'
            cand --dry-run 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
            cand -v 'Report retries and other details on stderr'
            cand --verbose 'Report retries and other details on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'milly;coupon;list'= {
            cand --database-url 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --retry-attempts 'Attempts for a write that conflicts with other writers, first included'
            cand --retry-base-delay-ms 'Cap of the first random wait after a conflict; it doubles per attempt'
            cand --retry-max-delay-ms 'Longest single wait between attempts'
            cand --lock-timeout-ms 'Longest time one command waits for other processes'' locks, retries included'
            cand --connect-timeout-ms 'Longest time connecting to a MySQL server may take, TLS and login included'
            cand --actor 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]'
            cand --idempotency-key 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)'
            cand --user 'Only this customer''s coupons'
            cand --at 'The moment status and --active are judged at (RFC 3339, a date, today, -7d, +30d …) [default: now]'
            cand --page-size 'Coupons per page'
            cand --page 'Page number, from 1'
            cand --json 'Same as --output json (together with another --output, a usage error)'
            cand --dry-run 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
            cand -v 'Report retries and other details on stderr'
            cand --verbose 'Report retries and other details on stderr'
            cand --active 'Only coupons valid now, or at --at (status valid)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'milly;coupon;show'= {
            cand --database-url 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --retry-attempts 'Attempts for a write that conflicts with other writers, first included'
            cand --retry-base-delay-ms 'Cap of the first random wait after a conflict; it doubles per attempt'
            cand --retry-max-delay-ms 'Longest single wait between attempts'
            cand --lock-timeout-ms 'Longest time one command waits for other processes'' locks, retries included'
            cand --connect-timeout-ms 'Longest time connecting to a MySQL server may take, TLS and login included'
            cand --actor 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]'
            cand --idempotency-key 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)'
            cand --json 'Same as --output json (together with another --output, a usage error)'
            cand --dry-run 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
            cand -v 'Report retries and other details on stderr'
            cand --verbose 'Report retries and other details on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'milly;coupon;help'= {
            cand create 'Create a coupon for one customer'
            cand deactivate 'Stop a coupon from applying (repeating it is harmless)'
            cand list 'List coupons, oldest first'
            cand show 'Show one coupon'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'milly;coupon;help;create'= {
        }
        &'milly;coupon;help;deactivate'= {
        }
        &'milly;coupon;help;list'= {
        }
        &'milly;coupon;help;show'= {
        }
        &'milly;coupon;help;help'= {
        }
        &'milly;import'= {
            cand --database-url 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --retry-attempts 'Attempts for a write that conflicts with other writers, first included'
            cand --retry-base-delay-ms 'Cap of the first random wait after a conflict; it doubles per attempt'
            cand --retry-max-delay-ms 'Longest single wait between attempts'
            cand --lock-timeout-ms 'Longest time one command waits for other processes'' locks, retries included'
            cand --connect-timeout-ms 'Longest time connecting to a MySQL server may take, TLS and login included'
            cand --actor 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]'
            cand --idempotency-key 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)'
            cand --json 'Same as --output json (together with another --output, a usage error)'
            cand --dry-run 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
            cand -v 'Report retries and other details on stderr'
            cand --verbose 'Report retries and other details on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand products 'Import products in one transaction. Fields: name, price, description, stock, stock_changes (further ledger changes: a JSON array, or "+5;-2" in CSV), discount_percent, discount_from, discount_until'
            cand coupons 'Import coupons in one transaction. Fields: user, percent, valid_to, valid_from, code'
            cand stock 'Apply stock changes in one transaction, in file order, each checked against its product''s running total. Fields: product_id, change (e.g. +50 or -20), reason'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'milly;import;products'= {
            cand --database-url 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --retry-attempts 'Attempts for a write that conflicts with other writers, first included'
            cand --retry-base-delay-ms 'Cap of the first random wait after a conflict; it doubles per attempt'
            cand --retry-max-delay-ms 'Longest single wait between attempts'
            cand --lock-timeout-ms 'Longest time one command waits for other processes'' locks, retries included'
            cand --connect-timeout-ms 'Longest time connecting to a MySQL server may take, TLS and login included'
            cand --actor 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]'
            cand --idempotency-key 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)'
            cand --format 'Input format [default: told from the first line: NDJSON if it starts with ''{'', CSV otherwise]'
            cand --json 'Same as --output json (together with another --output, a usage error)'
            cand --dry-run 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
            cand -v 'Report retries and other details on stderr'
            cand --verbose 'Report retries and other details on stderr'
            cand --allow-empty 'Accept an input with no rows (refused by default: an empty file is most often a failed download)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'milly;import;coupons'= {
            cand --database-url 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --retry-attempts 'Attempts for a write that conflicts with other writers, first included'
            cand --retry-base-delay-ms 'Cap of the first random wait after a conflict; it doubles per attempt'
            cand --retry-max-delay-ms 'Longest single wait between attempts'
            cand --lock-timeout-ms 'Longest time one command waits for other processes'' locks, retries included'
            cand --connect-timeout-ms 'Longest time connecting to a MySQL server may take, TLS and login included'
            cand --actor 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]'
            cand --idempotency-key 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)'
            cand --format 'Input format [default: told from the first line: NDJSON if it starts with ''{'', CSV otherwise]'
            cand --json 'Same as --output json (together with another --output, a usage error)'
            cand --dry-run 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
            cand -v 'Report retries and other details on stderr'
            cand --verbose 'Report retries and other details on stderr'
            cand --allow-empty 'Accept an input with no rows (refused by default: an empty file is most often a failed download)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'milly;import;stock'= {
            cand --database-url 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --retry-attempts 'Attempts for a write that conflicts with other writers, first included'
            cand --retry-base-delay-ms 'Cap of the first random wait after a conflict; it doubles per attempt'
            cand --retry-max-delay-ms 'Longest single wait between attempts'
            cand --lock-timeout-ms 'Longest time one command waits for other processes'' locks, retries included'
            cand --connect-timeout-ms 'Longest time connecting to a MySQL server may take, TLS and login included'
            cand --actor 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]'
            cand --idempotency-key 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)'
            cand --format 'Input format [default: told from the first line: NDJSON if it starts with ''{'', CSV otherwise]'
            cand --json 'Same as --output json (together with another --output, a usage error)'
            cand --dry-run 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
            cand -v 'Report retries and other details on stderr'
            cand --verbose 'Report retries and other details on stderr'
            cand --allow-empty 'Accept an input with no rows (refused by default: an empty file is most often a failed download)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'milly;import;help'= {
            cand products 'Import products in one transaction. Fields: name, price, description, stock, stock_changes (further ledger changes: a JSON array, or "+5;-2" in CSV), discount_percent, discount_from, discount_until'
            cand coupons 'Import coupons in one transaction. Fields: user, percent, valid_to, valid_from, code'
            cand stock 'Apply stock changes in one transaction, in file order, each checked against its product''s running total. Fields: product_id, change (e.g. +50 or -20), reason'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'milly;import;help;products'= {
        }
        &'milly;import;help;coupons'= {
        }
        &'milly;import;help;stock'= {
        }
        &'milly;import;help;help'= {
        }
        &'milly;db'= {
            cand --database-url 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --retry-attempts 'Attempts for a write that conflicts with other writers, first included'
            cand --retry-base-delay-ms 'Cap of the first random wait after a conflict; it doubles per attempt'
            cand --retry-max-delay-ms 'Longest single wait between attempts'
            cand --lock-timeout-ms 'Longest time one command waits for other processes'' locks, retries included'
            cand --connect-timeout-ms 'Longest time connecting to a MySQL server may take, TLS and login included'
            cand --actor 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]'
            cand --idempotency-key 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)'
            cand --json 'Same as --output json (together with another --output, a usage error)'
            cand --dry-run 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
            cand -v 'Report retries and other details on stderr'
            cand --verbose 'Report retries and other details on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand migrate 'Apply pending migrations (the only way to upgrade a MySQL schema; other commands set up an empty database, and upgrade an SQLite file, on their own)'
            cand status 'Show the backend, where it points, the schema version, pending migrations and row counts'
            cand prune-keys 'Forget idempotency keys recorded more than DAYS days ago (their writes stay)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'milly;db;migrate'= {
            cand --database-url 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --retry-attempts 'Attempts for a write that conflicts with other writers, first included'
            cand --retry-base-delay-ms 'Cap of the first random wait after a conflict; it doubles per attempt'
            cand --retry-max-delay-ms 'Longest single wait between attempts'
            cand --lock-timeout-ms 'Longest time one command waits for other processes'' locks, retries included'
            cand --connect-timeout-ms 'Longest time connecting to a MySQL server may take, TLS and login included'
            cand --actor 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]'
            cand --idempotency-key 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)'
            cand --json 'Same as --output json (together with another --output, a usage error)'
            cand --dry-run 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
            cand -v 'Report retries and other details on stderr'
            cand --verbose 'Report retries and other details on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'milly;db;status'= {
            cand --database-url 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --retry-attempts 'Attempts for a write that conflicts with other writers, first included'
            cand --retry-base-delay-ms 'Cap of the first random wait after a conflict; it doubles per attempt'
            cand --retry-max-delay-ms 'Longest single wait between attempts'
            cand --lock-timeout-ms 'Longest time one command waits for other processes'' locks, retries included'
            cand --connect-timeout-ms 'Longest time connecting to a MySQL server may take, TLS and login included'
            cand --actor 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]'
            cand --idempotency-key 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)'
            cand --json 'Same as --output json (together with another --output, a usage error)'
            cand --dry-run 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
            cand -v 'Report retries and other details on stderr'
            cand --verbose 'Report retries and other details on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'milly;db;prune-keys'= {
            cand --database-url 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --retry-attempts 'Attempts for a write that conflicts with other writers, first included'
            cand --retry-base-delay-ms 'Cap of the first random wait after a conflict; it doubles per attempt'
            cand --retry-max-delay-ms 'Longest single wait between attempts'
            cand --lock-timeout-ms 'Longest time one command waits for other processes'' locks, retries included'
            cand --connect-timeout-ms 'Longest time connecting to a MySQL server may take, TLS and login included'
            cand --actor 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]'
            cand --idempotency-key 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)'
            cand --older-than 'Keep the keys of the last DAYS days'
            cand --json 'Same as --output json (together with another --output, a usage error)'
            cand --dry-run 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
            cand -v 'Report retries and other details on stderr'
            cand --verbose 'Report retries and other details on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'milly;db;help'= {
            cand migrate 'Apply pending migrations (the only way to upgrade a MySQL schema; other commands set up an empty database, and upgrade an SQLite file, on their own)'
            cand status 'Show the backend, where it points, the schema version, pending migrations and row counts'
            cand prune-keys 'Forget idempotency keys recorded more than DAYS days ago (their writes stay)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'milly;db;help;migrate'= {
        }
        &'milly;db;help;status'= {
        }
        &'milly;db;help;prune-keys'= {
        }
        &'milly;db;help;help'= {
        }
        &'milly;completions'= {
            cand --database-url 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --retry-attempts 'Attempts for a write that conflicts with other writers, first included'
            cand --retry-base-delay-ms 'Cap of the first random wait after a conflict; it doubles per attempt'
            cand --retry-max-delay-ms 'Longest single wait between attempts'
            cand --lock-timeout-ms 'Longest time one command waits for other processes'' locks, retries included'
            cand --connect-timeout-ms 'Longest time connecting to a MySQL server may take, TLS and login included'
            cand --actor 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]'
            cand --idempotency-key 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)'
            cand --json 'Same as --output json (together with another --output, a usage error)'
            cand --dry-run 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
            cand -v 'Report retries and other details on stderr'
            cand --verbose 'Report retries and other details on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'milly;man'= {
            cand --database-url 'Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database [default: milly.db in the platform data directory]'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --retry-attempts 'Attempts for a write that conflicts with other writers, first included'
            cand --retry-base-delay-ms 'Cap of the first random wait after a conflict; it doubles per attempt'
            cand --retry-max-delay-ms 'Longest single wait between attempts'
            cand --lock-timeout-ms 'Longest time one command waits for other processes'' locks, retries included'
            cand --connect-timeout-ms 'Longest time connecting to a MySQL server may take, TLS and login included'
            cand --actor 'Who is making the change, recorded on every row written and shown in histories (1 to 64 printable characters) [default: the OS user name]'
            cand --idempotency-key 'Run a write at most once: a rerun with the same key and the same request prints the first run''s result and writes nothing; the same key with another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9 . _ : - (ignored by commands that only read)'
            cand --json 'Same as --output json (together with another --output, a usage error)'
            cand --dry-run 'Check and compute a write as for real, print what it would print and exit as it would, but keep nothing (every write transaction is rolled back; a missing database is not created, nor migrated)'
            cand -v 'Report retries and other details on stderr'
            cand --verbose 'Report retries and other details on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'milly;help'= {
            cand product 'Create, change, archive, list and show products'
            cand stock 'Change stock and read its ledger'
            cand discount 'Set, list and clear product discounts'
            cand coupon 'Create, list, show and deactivate customer coupons'
            cand import 'Load products or coupons in bulk from NDJSON or CSV (all or nothing)'
            cand db 'Apply migrations and inspect the database'
            cand completions 'Print a shell completion script'
            cand man 'Print the manual page (roff) of milly or of one command'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'milly;help;product'= {
            cand create 'Create a product with its opening stock'
            cand list 'List products, oldest first, with stock and discounted price'
            cand show 'Show one product priced for a customer at a moment'
            cand update 'Change a product''s name, description or price (recorded in its history)'
            cand archive 'Retire a product: hidden from lists, read-only (repeating it is harmless)'
            cand unarchive 'Make an archived product listed and writable again'
            cand history 'Every change to a product, oldest first, with when and who'
        }
        &'milly;help;product;create'= {
        }
        &'milly;help;product;list'= {
        }
        &'milly;help;product;show'= {
        }
        &'milly;help;product;update'= {
        }
        &'milly;help;product;archive'= {
        }
        &'milly;help;product;unarchive'= {
        }
        &'milly;help;product;history'= {
        }
        &'milly;help;stock'= {
            cand adjust 'Add to or take from a product''s stock (retried on concurrent writes)'
            cand revert 'Undo one ledger row: append the opposite change, linked to it (`reverts`). Exit 4 if it would take stock below zero (insufficient_stock) or the row is already reverted (already_reverted)'
            cand history 'Print a product''s stock ledger, or every product''s movements, oldest first (streamed)'
            cand verify 'Check every ledger (or one): versions 1..n without gaps, each total the previous total plus the change, never below zero, ending at the version its product records as the latest. Exit 0 with a summary, or exit 4 (ledger_inconsistent) with one row per problem'
        }
        &'milly;help;stock;adjust'= {
        }
        &'milly;help;stock;revert'= {
        }
        &'milly;help;stock;history'= {
        }
        &'milly;help;stock;verify'= {
        }
        &'milly;help;discount'= {
            cand set 'Give a product a discount over a window, replacing those it overlaps from its start'
            cand list 'List discounts, oldest first, whatever their status'
            cand clear 'Switch off a product''s running and scheduled discounts (none is not an error)'
        }
        &'milly;help;discount;set'= {
        }
        &'milly;help;discount;list'= {
        }
        &'milly;help;discount;clear'= {
        }
        &'milly;help;coupon'= {
            cand create 'Create a coupon for one customer'
            cand deactivate 'Stop a coupon from applying (repeating it is harmless)'
            cand list 'List coupons, oldest first'
            cand show 'Show one coupon'
        }
        &'milly;help;coupon;create'= {
        }
        &'milly;help;coupon;deactivate'= {
        }
        &'milly;help;coupon;list'= {
        }
        &'milly;help;coupon;show'= {
        }
        &'milly;help;import'= {
            cand products 'Import products in one transaction. Fields: name, price, description, stock, stock_changes (further ledger changes: a JSON array, or "+5;-2" in CSV), discount_percent, discount_from, discount_until'
            cand coupons 'Import coupons in one transaction. Fields: user, percent, valid_to, valid_from, code'
            cand stock 'Apply stock changes in one transaction, in file order, each checked against its product''s running total. Fields: product_id, change (e.g. +50 or -20), reason'
        }
        &'milly;help;import;products'= {
        }
        &'milly;help;import;coupons'= {
        }
        &'milly;help;import;stock'= {
        }
        &'milly;help;db'= {
            cand migrate 'Apply pending migrations (the only way to upgrade a MySQL schema; other commands set up an empty database, and upgrade an SQLite file, on their own)'
            cand status 'Show the backend, where it points, the schema version, pending migrations and row counts'
            cand prune-keys 'Forget idempotency keys recorded more than DAYS days ago (their writes stay)'
        }
        &'milly;help;db;migrate'= {
        }
        &'milly;help;db;status'= {
        }
        &'milly;help;db;prune-keys'= {
        }
        &'milly;help;completions'= {
        }
        &'milly;help;man'= {
        }
        &'milly;help;help'= {
        }
    ]
    $completions[$command]
}
