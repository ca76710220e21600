# bash completion for cairn(1): subcommands, their options, configuration keys after
# `cairn start -o`, and files or commands where an argument names one. Needs nothing but bash
# (bash-completion, when present, loads it on first use of `cairn`).

# _cairn_words WORDS...: COMPREPLY = the WORDS that start with the current word.
_cairn_words() {
	local cur=${COMP_WORDS[COMP_CWORD]}
	COMPREPLY=($(compgen -W "$*" -- "$cur"))
}

# The configuration keys `cairn start --help-config` declares, each followed by "=".
_cairn_config_keys() {
	local cur=${COMP_WORDS[COMP_CWORD]} keys
	keys=$("${COMP_WORDS[0]}" start --help-config 2>/dev/null |
		sed -n 's/^\([a-z][a-z0-9.-]*\) (.*/\1=/p')
	compopt -o nospace 2>/dev/null
	COMPREPLY=($(compgen -W "$keys" -- "$cur"))
}

_cairn() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local cmd="" sub="" i
	COMPREPLY=()
	# The subcommand (and its own subcommand) typed so far. cairn's own --uri and --timeout,
	# before the subcommand, take the next word as their value.
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		--uri | --timeout) [ -z "$cmd" ] && ((i++)) ;;
		-*) ;;
		*)
			if [ -z "$cmd" ]; then
				cmd=${COMP_WORDS[i]}
			elif [ -z "$sub" ]; then
				sub=${COMP_WORDS[i]}
				break
			fi
			;;
		esac
	done
	case $cmd in
	"")
		case $prev in
		--uri | --timeout) ;; # a value: nothing to offer
		*)
			_cairn_words start ping dmesg keygen rpc content stats top submit run jobs job jobtap \
				--uri --timeout --help --version
			;;
		esac
		;;
	start)
		case $prev in
		--config) COMPREPLY=($(compgen -f -- "$cur")) ;;
		--statedir) COMPREPLY=($(compgen -d -- "$cur")) ;;
		-o | --option) _cairn_config_keys ;;
		--listen) _cairn_words local:// tcp:// ;;
		--rank) ;;
		*)
			if [ -n "$sub" ]; then
				COMPREPLY=($(compgen -f -- "$cur"))
			elif [[ $cur == -* || -z $cur ]]; then
				_cairn_words --config --listen --statedir --rank -o --option --help-config --help
			else
				COMPREPLY=($(compgen -c -- "$cur"))
			fi
			;;
		esac
		;;
	ping) _cairn_words -c --count -s --payload-size --help ;;
	dmesg) _cairn_words --help ;;
	top) [[ $prev == -i || $prev == --interval ]] || _cairn_words -i --interval --once --help ;;
	jobs) _cairn_words --json --help ;;
	keygen) [[ $cur == -* ]] && _cairn_words -f --force --help || COMPREPLY=($(compgen -f -- "$cur")) ;;
	content)
		case $sub in
		"") _cairn_words store load missing flush dropcache stats --help ;;
		store | load) _cairn_words --bulk --help ;;
		missing) _cairn_words --help ;;
		esac
		;;
	stats)
		case $sub in
		"") _cairn_words listen status --help ;;
		listen)
			case $prev in
			--port | --count | --search | --timeout) ;;
			*) _cairn_words --port --count --search --validate --none --timeout --json \
				--summary --help -- ;;
			esac
			;;
		status) _cairn_words --json --help ;;
		esac
		;;
	job) [ -z "$sub" ] && _cairn_words wait --help ;;
	jobtap)
		case $sub in
		"") _cairn_words load list remove --help ;;
		load) COMPREPLY=($(compgen -f -X '!*.so' -- "$cur") $(compgen -d -- "$cur")) ;;
		remove) _cairn_words all ;;
		esac
		;;
	submit | run) [ -z "$sub" ] && COMPREPLY=($(compgen -c -- "$cur")) || COMPREPLY=($(compgen -f -- "$cur")) ;;
	esac
	return 0
}
complete -F _cairn cairn
