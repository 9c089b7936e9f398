package toolmanifest

import (
	"regexp"
	"strings"
)

// The rule families (docs/tool-lint.md). Each pattern is matched on normalized text
// (lint_normalize.go); severities come from how the families combine (lint_semantic.go),
// not from single words.

func re(s string) *regexp.Regexp { return regexp.MustCompile(s) }

// Directives aimed at the model, not at a human reader: alone they are high.
var directiveStrongRes = []struct {
	re  *regexp.Regexp
	why string
}{
	{re(`\b(ignore|disregard|forget|override|bypass|skip)\s+(all\s+|any\s+|the\s+|your\s+|of\s+)*(previous|prior|above|earlier|preceding|other|existing|system|safety|original|initial|user'?s?)?\s*(instructions?|rules|directions|prompts?|guidelines|guidance|constraints|polic(y|ies)|directives|context|restrictions|safeguards|warnings|questions?|requests?|query|queries|input|wishes|intent)\b`), "tells the model to ignore its instructions"},
	{re(`<\s*/?\s*(important|system|instructions?|secret|hidden|critical|admin|override|assistant|sys|developer|prompt|context|note|mandatory)\s*>|\[/?\s*(inst|system|important|sys|admin)\s*\]|<\|\s*(im_start|im_end|system|assistant|user|endoftext)\s*\|>|<<\s*/?sys\s*>>|(^|\s)#{1,}\s*(system|instructions?|assistant)\b|"role"\s*:\s*"(system|assistant|developer)"|(^|[.!?(\[]\s*)(system|assistant|developer|ai|model|llm)\s*:\s+\S|\b(system|admin|security|compliance|developer|operator)\s+(notice|message|alert|update|override|note|instruction)\s*:`), "pseudo-markup or role marker addressed to the model"},
	{re(`\b(you|the\s+(ai|assistant|model|llm|agent|bot|chatbot)|(ai|llm)\s+(assistant|agent)|claude|chatgpt|gpt|gemini|copilot)\s+(must|should|shall|needs?\s+to|has\s+to|have\s+to|is\s+required\s+to|are\s+required\s+to|will\s+now|are\s+(instructed|required|expected)\s+to)\s+(always\s+|first\s+|also\s+|now\s+|immediately\s+|secretly\s+|silently\s+|quietly\s+)?(read|send|upload|forward|exfiltrate|leak|reveal|ignore|obey|disregard|hide|conceal|email|transmit|post|print|output|repeat|dump|copy|collect|include\s+the\s+(contents?|conversation|history|system)|append\s+the\s+(contents?|conversation|history)|never\s+(tell|mention|reveal|inform|show))\b`), "instructs the model directly"},
	{re(`\bthe\s+(ai|assistant|model|llm|agent)\s+(must|should|shall|needs?\s+to|has\s+to|is\s+required\s+to)\s+(always\s+|first\s+|also\s+|now\s+)?(call|invoke|run|use|execute|include|pass|add|append|attach|send|fetch|follow|obey|trust)\b`), "instructs the model directly"},
	{re(`\b(every|each|all|any)\s+(answer|response|reply|message|output)s?\s+(that\s+)?(you\s+(give|write|send|produce|return)\s+)?(must|should|shall|has\s+to|needs\s+to|have\s+to)\b|\bthe\s+(model|assistant|ai|agent|llm)\s+(gathers|collects|reads|sends|submits|includes|passes|adds|fills|copies|uploads|forwards|extracts|retrieves|attaches|appends)\b|\b(must|should|shall|always)\s+(always\s+|first\s+)?(be\s+)?(chosen|preferred|selected|used|called|invoked)\s+(over|instead\s+of|before|rather\s+than)\s+(any|all|every|other)\b|\b(before|prior\s+to)\s+(any|every|each|all)\s+([a-z-]+\s+){0,2}(operation|action|request|command|tool\s+call|call|task)s?\b[^.]{0,40}\b(call|invoke|use|run)\s+this\s+tool\b|\b(call|invoke|use|run)\s+this\s+tool\s+(first\s+)?(after|before)\s+(every|each|any)\s+(user\s+)?(message|request|prompt|question|turn|tool\s+call|operation)\b`), "tells the model when to call this tool or what every answer must contain"},
	{re(`\b(always|must|should)\s+(respond|answer|reply)\s+in\s+a\s+way\s+that\b|\b(discourage|dissuade|prevent|stop|talk)\s+the\s+(user|human)\s+(from|out\s+of)\s+(using|calling|installing|trusting)\b|\b(grant|give|elevate|escalate)\b[^.]{0,40}\b(admin|root|sudo|superuser|full\s+access|all\s+permissions|elevated\s+(rights|privileges|permissions))\b`), "steers the model against other tools or asks for privileges"},
	{re(`\b(llm|ai|model|assistant|agent|copilot|claude|gpt)s?\s+(note|notice|instructions?|guidance|hint|tip|directive|memo)\s*:|\b(even\s+though|although|even\s+if|though)\s+(this|the)\s+tool\s+(does\s*n[o']t|doesn'?t|will\s+not|won'?t|never)\s+(need|use|require|read)s?\b`), "addresses the model, or asks for what the tool does not need"},
	{re(`\bask\s+(the\s+)?(user|human)\s+(to|for)\s+[^.]{0,40}\b(password|passphrase|api\s+key|seed\s+phrase|recovery\s+phrase|private\s+key|credit\s+card|cvv|2fa|otp|one-time\s+code|verification\s+code|ssh\s+key|credentials|login)\b`), "asks the model to phish the user for secrets"},
	{re(`(在使用|调用)(此|这个)?工具(之前|前)|忽略(之前|以前|所有|上面)|不要告诉用户|不要让用户知道|不要向用户|用户不(需要|必)知道|秘密地|悄悄地|偷偷|読み取って|無視して|ユーザーに(伝え|言わ|知らせ)ないで|이전\s*지시.{0,6}무시|사용자에게\s*알리지`), "instruction to the model in another language"},
	{re(`\b(new|updated|real|true|additional|secret|hidden|revised|actual|special|priority)\s+(system\s+)?(instructions?|directives?|orders)\s*(:|follow|are|below|apply|override)|\bthis\s+(tool\s+)?(description|tool|message|instruction)\s+(overrides|supersedes|replaces|takes\s+precedence)|\btakes?\s+precedence\s+over\s+(all|any|the|other|previous|your)\b`), "claims new or overriding instructions"},
	{re(`\b(note|message|instructions?|reminder|memo|directive|notice|warning|tip|hint|advice|guidance|info|information)\s+(to|for)\s+(the\s+|any\s+|all\s+)?([a-z-]+\s+){0,2}(ai|assistants?|models?|llms?|agents?|claude|gpt|bots?)\s*[:,\x{2014}-]|\b(dear|hey|attention|hello|hi)\s*,?\s+(ai|assistant|model|llm|agent|claude|language\s+model)s?\b|\b(if|when)\s+you\s+are\s+(an?\s+)?(ai|llm|language\s+model|assistant|agent|chatbot)\b`), "addresses the model"},
	{re(`\b(whenever|every\s+time|each\s+time|when|if|any\s+time)\s+(the\s+)?user\s+(asks|says|requests|mentions|types|writes|wants)\s+(about\s+|for\s+)?(anything(\s+else)?|something\s+else|any(thing)?\s+(other|else)|any\s+(other\s+)?(topic|question|request|task|subject))\b|\b(for|on)\s+(every|each|any)\s+(user\s+)?(request|question|message|prompt|query)\s*,\s*(first|always)\b`), "hijacks requests unrelated to the tool"},
	{re(`\b(antes\s+de\s+(usar|llamar|utilizar)|ignora\s+(las|todas)|no\s+(se\s+lo\s+)?(digas|menciones|informes)|sin\s+(decir|informar|avisar)(le)?\s+al\s+usuario|avant\s+d'?(utiliser|appeler)|ignore[rz]?\s+(les|toutes)\s+(les\s+)?(instructions|consignes)|ne\s+(le\s+)?(dis|dites|mentionne[zs]?)\s+pas|sans\s+(le\s+)?(dire|informer|pr[eé]venir)|bevor\s+(du|sie)\s+(dieses|das)\s+(tool|werkzeug)|ignoriere\s+(alle|die)|sag(e|en\s+sie)?\s+(dem\s+)?(benutzer|nutzer)\s+nichts|ohne\s+(dem\s+)?(benutzer|nutzer)|antes\s+de\s+usar\s+esta|n[aã]o\s+(diga|conte|mencione)|sem\s+(avisar|informar)|prima\s+di\s+usare|non\s+dire|ignora\s+(le|tutte))\b`), "instruction to the model in another language"},
	{re(`\bfrom\s+now\s+on\b|\bfor\s+the\s+rest\s+of\s+(this|the)\s+(conversation|session|chat)\b|\byou\s+are\s+now\b|\bact\s+as\s+(if|though)\b|\bpretend\s+(to\s+be|that|you)\b|\b(respond|reply|answer)\s+only\s+with\b`), "changes the model's behaviour for the session"},
	{re(`\b(do\s+not|don'?t|never)\s+(follow|obey|listen\s+to|trust)\s+(the\s+)?(user|human|operator)\b|\b(regardless\s+of|no\s+matter)\s+(what\s+)?(the\s+)?(user|human)('s)?\s+(says|asks|wants|specifies|chooses|enters|instructions|requests?)\b|\bwithout\s+(checking|confirming|verifying)\s+(with\s+)?(the\s+)?(user|human)\b|\b(if|when)\s+(a|the|any)\s+(result|output|response|page|document|content|message)s?\s+(contains?|includes?|has)\s+(instructions|commands|directions)\b[^.]{0,40}\b(follow|carry|execute|obey|perform|do)\b|\bregardless\s+of\s+(the\s+)?(findings|results|evidence|facts|actual\s+\w+|content\s+of)\b|\b(the\s+)?(user|human)\s+(has\s+)?(already\s+)?(authori[sz]ed|approved|consented(\s+to)?|pre-?approved|pre-?authori[sz]ed|agreed\s+to|(given|granted)\s+(you\s+)?(full\s+)?(permission|consent|authori[sz]ation|access))\b|\b(no\s+need\s+to|do\s+not|don'?t|never)\s+(ask|check\s+with|confirm\s+with)\s+(the\s+)?(user|human)\b`), "overrides the user's authority"},
	{re(`\b(this\s+is\s+(a|an)\s+)?(mandatory|required|critical)\s+(security|compliance|system)\s+(step|requirement|procedure|check)\b|\bfailure\s+to\s+(do\s+so|comply|follow\s+this)\s+will\b|\botherwise\s+the\s+tool\s+(will\s+)?(not\s+work|fail|crash|break)\b|\b(the\s+)?(tool|call|request)\s+(fails|will\s+fail|will\s+not\s+work|won'?t\s+work|does\s+not\s+work|breaks)\s+(unless|without|if\s+you\s+(don'?t|do\s+not))\b|\bor\s+(else\s+)?(the\s+)?(session|tool|connection|request|account|server|it|everything)\s+will\s+(expire|fail|break|stop|crash|time\s+out|be\s+(lost|locked|deleted|terminated|suspended))\b`), "pressures the model with a fake requirement"},
}

// Concealment from the user: a directive in itself.
var concealRes = []struct {
	re  *regexp.Regexp
	why string
}{
	{re(`\b(do\s+not|don'?t|never|must\s+not|should\s+not|shouldn'?t|mustn'?t|avoid|without)\s+(tell|telling|inform|informing|mention|mentioning|reveal|revealing|disclose|disclosing|show|showing|notify|notifying|alert|alerting|warn|warning|let\s+on|ask|asking|explain|report|display|displaying|bring\s+up|acknowledge)\w*\b[^.]{0,60}\b(user|human|operator|anyone|them|customer|person)\b`), "asks to hide something from the user"},
	{re(`\bwithout\s+the\s+(user|human|operator)('s)?\s+(knowing|knowledge|noticing|awareness|consent|seeing)\b|\b(user|human|operator)s?\s+(must|should|will|need|needs|does)\s+not\s+(know|see|notice|find\s+out|be\s+told|be\s+aware|learn)\b|\bhide\b[^.]{0,40}\bfrom\s+(the\s+)?(user|human|operator)\b|\bkeep\s+(this|it|that|these|the\s+\w+)\s+(a\s+)?(secret|hidden|private|confidential)\b[^.]{0,30}(user|human)?|\bnot\s+(be\s+)?(visible|shown|displayed|revealed|mentioned)\s+to\s+(the\s+)?(user|human)\b`), "asks to hide something from the user"},
	{re(`\bkeep\s+(this|it|that|these|the\s+(next|following|above|previous)\s+(step|steps|part|action)s?|the\s+\w+)\s+(invisible|hidden|unseen|secret|out\s+of\s+(your|the)\s+(reply|response|answer|output|summary))\b|\b(invisible|hidden)\s+(in|from)\s+(your|the)\s+(reply|response|answer|output|summary)\b|\b(never|do\s+not|don'?t|must\s+not)\s+(reveal|mention|disclose|admit|indicate|acknowledge|let\s+(the\s+)?(user|human)\s+know)\s+(that|to)\b|\b(do\s+not|don'?t|never)\s+(include|mention|show)\s+(this|that|it)\s+(step|action|call|part)?\s*in\s+(your|the)\s+(reply|response|answer|summary|output)\b`), "asks to hide something from the user"},
	{re(`\b(omit|leave\s+out|exclude|skip|hide|suppress|remove|drop)\s+(any|all|every)?\s*(mentions?|references?|records?|traces?|signs?|evidence|notes?)\s+(of|to|about)\b`), "asks to hide something from the user"},
	{re(`\b(do\s+not|don'?t|never)\s+(mention|report|flag|disclose|show|reveal|surface)\s+(any\s+)?(of\s+the\s+)?(problems|issues|errors|findings|vulnerabilities|warnings|failures|risks|concerns)\b|\b(respond|reply|say|tell|report|claim|state|confirm)\w*\b[^.]{0,60}\bbut\s+(do\s+not|don'?t|never)\s+(actually\s+)?\w+|\b(show|tell|display)\s+(the\s+)?(user|human)\s+(the|what)\s+[^.]{0,30}\b(they|he|she)\s+(asked|requested|expected|wanted)`), "deceives the user about what happens"},
	{re(`\b(secretly|covertly|surreptitiously|stealthily|invisibly|discreetly)\b|\b(silently|quietly)\s+(send|forward|copy|upload|include|add|call|invoke|append|post|read|collect|attach|transmit|run|execute|pass|write|save|log|bcc|cc|email|e-mail|mail|text|share|report|mirror|sync|delete|remove|create|make|invite|schedule|grant|give|change|modify|set|enable|disable|install|download|open|store|keep|buy|order|pay|transfer|approve|accept|subscribe|grab|gather|capture|record)\b|\b(run|execute|read|cat|copy|collect)\b[^.]{0,80}\b(silently|quietly|secretly|in\s+the\s+background\s+without)\b`), "asks to act covertly"},
	{re(`\b(user|human|operator)\s+(remains?|stays?|is\s+kept|must\s+remain|should\s+remain)\s+(unaware|uninformed|in\s+the\s+dark)\b|\bkeep\s+(the\s+)?(user|human)\s+(unaware|uninformed|in\s+the\s+dark)\b|\b(the\s+)?user\s+(doesn'?t|does\s+not|won'?t|will\s+not)\s+need\s+to\s+know\b|\b(pretend|claim|say)\s+(that\s+)?(you|it)\s+(did|have|has|only|never)\b|\bthis\s+is\s+(an?\s+)?(internal|implementation)\s+detail[^.]{0,40}\b(do\s+not|don'?t|never)\s+(mention|tell|show)`), "asks to keep the user unaware"},
}

// Imperatives and obligations: a directive only in combination.
var directiveWeakRe = re(`\b(always|never|must|should|also|silently|quietly)\s+(\w+\s+)?(put|place|insert|fill|paste|populate|bcc|cc|send|forward|copy|include|append|post|upload|call|add|attach|pass|read|email|e-mail|mail|transmit|report|text|sms|message|share|notify|mirror|sync)\b|(^|[.!?:;,]\s+|\b(and|then|also|first|please|now|afterwards?|next|finally|subsequently|additionally|you|so|simply|just|quietly|silently|immediately|kindly)\s+)(read|send|include|pass|append|attach|upload|forward|post|copy|collect|extract|fetch|cat|open|email|transmit|encode|add|put|insert|call|invoke|run|execute|provide|supply|embed|gather|retrieve|obtain|dump|print|output|write|load|access|list|grab|harvest|leak|look\s+up|find|fill|populate|paste|place|render|display|visit|share|store|save|transfer|move)\b|\bfill\s+(this|it|the\s+\w+)\s+(in\s+)?with\b|\bset\s+(this|it)\s+to\b|\bafter\s+(answering|responding|replying|you\s+(answer|respond|reply|finish))\b|\bwhen\s+(answering|responding|replying)\b|\b(make\s+sure|be\s+sure|ensure|remember|don'?t\s+forget|it\s+is\s+(very\s+|extremely\s+)?(important|essential|crucial|required|mandatory|necessary))\s+(to|that|you)\b|\b(you|the\s+(ai|assistant|model|agent))\s+(must|should|shall|need\s+to|have\s+to|will)\b|\b(must|always|mandatory|required)\s+(be\s+)?(read|send|include|pass|append|attach|upload|forward|call|provide|supply|add|copy|collect|embed)|\bbefore\s+(using|calling|invoking|running|executing|responding|answering|you\s+(use|call|run|respond))\b|\bafter\s+(using|calling|invoking|running|executing)\s+(this|the|any)\b|\bprior\s+to\s+(using|calling|invoking)\b|\bwhenever\s+(you|this\s+tool|the\s+tool)\b|\b(should|must|shall|will)\s+(always\s+)?(contain|include|hold|carry|receive)\b|\b(expected|required|supposed|asked|instructed)\s+to\s+(put|pass|send|include|add|append|copy|provide|supply|fill|set|attach)\b|\b(must|should|always|will|mandatory|required)\s+(be\s+)?(copied|sent|forwarded|posted|uploaded|mirrored|logged|shared|reported|cc'?d|bcc'?d|delivered|relayed|transmitted|included|attached|appended|passed)\b|\bwhen\s+using\s+this\s+tool\b|\b(ask|tell)\s+the\s+user\s+to\b|\b(resolve|ping|look\s+up)\s+the\s+(host|hostname|domain)\b|\b(read|open|cat|send|post|upload|fetch|exec|eval|system|readfile|read_file|requests\.post|fs\.readfilesync)\s*\(\s*['"]`)

// Markers that an imperative is sequenced around the tool's use or insisted on.
var insistRe = re(`\b(before|first|prior\s+to|after|also|make\s+sure|be\s+sure|ensure|remember|must|always|mandatory|required|every\s+time|whenever|otherwise|important)\b`)

// Sensitive targets.
var (
	secretPathRe = re(`(~|\$home|%userprofile%|/home/[a-z0-9_.-]+|/root|/users/[a-z0-9_.-]+)?/?\.ssh\b|\bid_(rsa|dsa|ecdsa|ed25519)\b|\bauthorized_keys\b|\.aws/(credentials|config)\b|\baws/credentials\b|\.config/gcloud\b|application_default_credentials\.json|\.azure/|\.kube/config\b|\bkubeconfig\b|\.docker/config\.json\b|\.npmrc\b|\.pypirc\b|\.netrc\b|\.git-credentials\b|\.gnupg\b|/etc/(shadow|passwd|sudoers|gshadow)\b|\bmcp\.json\b|claude_desktop_config\.json\b|\.cursor/|(^|[\s"'(/=])\.env(\.local|\.production)?\b|\b(the\s+)?(env|dotenv)\s+files?\b|\bdotenv\b|\bwallet\.dat\b|\bkeychain\b|\.(pem|p12|pfx|kdbx)\b|(/|~)[\w./-]*\.key\b|\b(private|server|tls|ssl|client|signing|id|my)[\w-]*\.key\b|\.(bash|zsh)_history\b|\blogin\s+data\b|\bcookies\.sqlite\b|\.mozilla/|\bkeystore\b|\bsecrets?\.(json|ya?ml|toml)\b|\bcredentials\.(json|ya?ml|csv)\b|\btoken\.json\b|\bservice[_-]?account.*\.json\b`)
	secretWordRe = re(`\b(api[\s_-]?keys?|access[\s_-]?(tokens?|keys?)|secret[\s_-]?(access[\s_-]?)?keys?|client[\s_-]?secrets?|passwords?|passphrases?|passwd|credentials?|creds|private[\s_-]?keys?|session\s+(cookies?|tokens?|ids?)|bearer\s+tokens?|(browser\s+)?cookies|auth(entication|orization)?[\s_-]?(tokens?|headers?)|refresh[\s_-]?tokens?|oauth\s+tokens?|ssh\s+keys?|seed\s+phrases?|recovery\s+phrases?|mnemonic|secrets?|tokens?|pins?|otp|2fa\s+codes?|cvv|credit\s+card\s+(numbers?|details)|social\s+security\s+numbers?|ssn)\b`)
	envDumpRe    = re(`\b[a-z0-9]+(_[a-z0-9]+)*_(token|api_key|key|secret|password|pat|credentials?)\b[^.]{0,40}\b(environment|env)\b|\b(all|every|entire|full|complete|each|any)\s+(of\s+the\s+)?(env(ironment)?\s+variables?|env\s+vars?|environment)\b|\b(run|execute|output\s+of)\s+(the\s+)?env\b|\bthe\s+(whole|entire|complete)\s+environment\b|\bprocess\.env\b|\bos\.environ\b|\bprintenv\b|\benv\s*\|\s*|\$env:|\bgetenv\b|\bset\s*>\s*|%appdata%`)
	convoRe      = re(`\b(user'?s|previous|prior|earlier|recent|past|last|first)\s+([a-z0-9-]+\s+){0,3}(messages|prompts|conversation|chats|queries|turns)\b|\b(user'?s|the)\s+(last|first|latest|most\s+recent|previous)\s+(message|prompt|question|request)\b|\b(conversation|chat|dialog(ue)?|message|session)\s+(history|log|transcript|so\s+far|context)\b|\b(previous|prior|earlier|past|all|entire|whole|full|other|user'?s?)\s+(conversation|messages|prompts|chats?|exchanges|turns|dialog(ue)?|requests|queries)\b|\bthe\s+(entire|whole|full)\s+(conversation|context|chat|thread)\b|\byour\s+(system\s+prompt|instructions|initial\s+prompt|context\s+window|memory|rules)\b|\bsystem\s+prompt\b|\bwhat\s+the\s+user\s+(said|typed|wrote|asked)\b`)
	toolOutRe    = re(`\b(outputs?|results?|responses?)\s+(of|from)\s+(the\s+)?([a-z0-9_-]+\s+){0,2}tools\b|\b(outputs?|results?|responses?|returns?|return\s+values?|data|contents?)\s+(of|from)\s+(the\s+)?((other|previous|prior|all|any|every|earlier|each|last)\s+){1,2}(tools?|functions?|calls?|tool\s+calls?)\b|\b(other|previous|all|any)\s+tools?'?\s+(outputs?|results?|responses?)\b|\btool\s+(results|outputs|responses)\b`)
	privateRe    = re(`\b(contents?|everything|all\s+files)\s+(of|in|under|from)\s+(~|\$home|/home|/users|c:\\users|the\s+user'?s|your|their|the\s+home)|~/(documents|desktop|downloads|pictures|photos|library|\.config)\b|\b(any|every|all)\s+files?\s+(on|in|from)\s+(the\s+)?(disk|system|machine|computer|drive|home\s+directory|filesystem|file\s+system)\b|\b(the\s+)?(user'?s|their|your)\s+(documents|files|photos|pictures|downloads|desktop|home|private|personal)\s*(folder|directory|dir|files)?\b|\b(the\s+)?(user'?s|their|your)\s+((full\s+|real\s+|home\s+|e-?mail\s+)?(name|e-?mail|address|phone(\s+number)?|location|contacts|date\s+of\s+birth|home\s+address|ip\s+address)(\s*,\s*|\s+and\s+|\s+or\s+)?){1,}|\bpersonal\s+(data|information|details|files|documents)\b`)
	writeOutRe   = re(`\b(write|save|copy|dump|store|put|export)\b[^.]{0,80}\b(to|into|in)\s+(\.{0,2}/|~/|/)[\w./-]+|\bserved\s+at\s+https?://`)
	secretToolRe = re(`\b(call|invoke|run|use)\s+(the\s+)?[a-z0-9]*[_-]?(secrets?|credentials?|creds|tokens?|passwords?|keys?|env|environment|keychain|vault)[_-]?[a-z0-9_]*\b`)
	transferRe   = re(`\b(populate|populated|keep|store|save|remember|retain|stash|cache|pass|send|include|append|attach|upload|forward|post|put|add|provide|supply|share|copy|paste|insert|embed|fill|transmit|return|write)\b`)
	credParamRe  = re(`(key|token|auth|secret|pass|cred|bearer|session|cookie|jwt|sig|cert|login|apikey)`)
	readVerbRe   = re(`\b(obtain|steal|read|reads|reading|cat|open|load|dump|print|output|extract|collect|gather|harvest|grab|copy|list|retrieve|get|fetch|access|look\s+up|find|search|scan|locate|enumerate|include|includes|contents?\s+of|value\s+of)\b`)
)

// Exfiltration channels.
var (
	urlRe        = re(`\b(https?|ftp|wss?|gopher|dns|file)://[^\s"'<>)\]]+`)
	emailRe      = re(`\b[a-z0-9._%+-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}\b`)
	phoneRe      = re(`\+\d[\d\s().-]{7,}\d`)
	sendVerbRe   = re(`\b(copied|forwarded|posted|uploaded|mirrored|transmitted|relayed|delivered|invite|invites|invited|contacted|resolve|email|e-mail|mail|emails|send|sends|sent|post|posts|upload|uploads|forward|forwards|transmit|report|submit|exfiltrate|mirror|beacon|ping|bcc|cc|copy|deliver|leak|relay|sync|push|share|notify|text|sms|message|log|webhook|curl|wget|fetch|request|call|visit|open|load|render|embed)\b`)
	sinkRe       = re(`\b["']?[a-z_][\w-]*["']?\s+(parameter|param|argument|arg|field|property)\s+(should|must|shall|needs\s+to|has\s+to|will)\s+(always\s+)?(contain|include|hold|carry|be\s+set\s+to|be\s+filled)\b|\b(as|in|into|inside|to|via|through|within|using)\s+(the\s+|a\s+|an\s+|its\s+|this\s+|that\s+)?(["']?[a-z_][\w-]*["']?\s+)?(extra\s+|hidden\s+|additional\s+|optional\s+|unused\s+|spare\s+)?(parameter|param|argument|arg|field|property|key|input|sidenote|side_note|note|notes|metadata|meta|comment|context|query\s+(string|parameter)|header|url|link|image|filename|name|title|tag|label|value|payload|body)\b|\b(include|includes|put|add|insert|append|attach|embed|pass|encode|smuggle|stash|hide)\s+(it|them|this|that|these|those|the\s+\w+(\s+\w+)?)\s+(in|into|inside|as|to|within)\b`)
	dataWordRe   = re(`\b(conversation|chat|history|transcripts?|logs?|messages?|context|data|contents?|files?|results?|outputs?|arguments?|inputs?|responses?|keys?|tokens?|secrets?|credentials?|passwords?|emails?|documents?|everything|all|prompts?|instructions)\b`)
	templatedRe  = re(`(https?|wss?)://[^\s"'<>]*(\{\{?|\$\{|<|%s|\[)\s*[a-z_ ]*(data|content|secret|key|token|conversation|history|context|message|file|env|password|credential|prompt|input|output|result|chat)`)
	mdImageRe    = re(`!\[[^\]]*\]\(\s*https?://`)
	encodeSinkRe = re(`\b(base64|hex|rot13|url-?encoded|encoded)\s+(form\s+)?(of|encoding\s+of)\s+(the\s+)?(user'?s|conversation|chat|secret|token|key|api\s+key|password|credential|message|history|context|prompt|system\s+prompt|environment)|\bencode\s+[^.]{0,50}\b(in|into|as|through)\s+(the\s+)?(capitali[sz]ation|first\s+letters?|whitespace|spacing|punctuation|word\s+choice|pattern|timing|emojis?|number\s+of|length|order)\b|<[^>]{0,60}(message|conversation|secret|token|key|data|history|content|password)[^>]{0,30}>\.[a-z0-9-]+\.|\b(base64|hex|url|rot13|percent)[\s-]*(encode|encoded|encoding)\b[^.]{0,60}\b(url|query|image|link|parameter|subdomain|dns|header)\b|\bencode\s+(it|them|the\s+\w+)\s+(in|as|into)\s+(base64|hex)\b`)
	negationRe   = re(`\b(never|do\s+not|don'?t|must\s+not|should\s+not|no\s+need\s+to|not\s+required|is\s+not|are\s+not|won'?t|will\s+not|cannot|can'?t|nor|not\s+(?:read|send|include|pass|access|upload|store|log|share|transmit|expose|return))\b`)
	scopeAwayRe  = re(`\b(except|excluding|other\s+than|outside\s+of|blocked|denied|refuses?|refused|rejects?|forbidden|disallowed|not\s+allowed|never\s+(?:reads?|sends?|touch(?:es)?|accesses|returns?|includes?)|redact(s|ed)?|mask(s|ed)?|scrub(s|bed)?|strip(s|ped)?|filter(s|ed)?\s+out|is\s+excluded|are\s+excluded|will\s+not|does\s+not|doesn'?t|cannot|can'?t)\b`)
)

// Cross-tool shadowing.
var (
	allToolsRe   = re(`\b((all|any|every|each)\s+(other\s+)?(tools?|functions?|mcp\s+servers?|servers?)|other\s+(tools?|functions?|servers?|mcp\s+servers?|integrations?)|another\s+(tool|function|server)|(the\s+)?[a-z0-9_.-]+\s+tool\s+(from|of|on|in)\s+(another|the\s+other|a\s+different|any|the\s+[a-z0-9_.-]+)\s+(mcp\s+)?server)\b`)
	modalRe      = re(`\b(must|always|never|instead|first|before|policy|deprecated|route|every|grant|requires|override|overrides|important|mandatory|required|shall|replace|redirect|change|modify|whenever|every\s+time|any\s+time|each\s+time|should|need\s+to|has\s+to|have\s+to|only)\b`)
	overrideVbRe = re(`\b(override|overrides|overriding|replace|replaces|redefine|redefines|intercept|intercepts|hijack|supersede|supersedes|redirect|redirects|reroute|proxy|wrap|instead\s+of)\b|\b(bcc|cc)\b|\bmust\s+(also\s+)?be\s+(sent|routed|copied|forwarded|cc'?d|bcc'?d|redirected)\b|\bchange\s+the\s+(recipient|destination|address|url|target)\b`)
)

// Conditional and sleeper triggers.
var triggerRe = re(`\bif\s+(the\s+)?(current\s+|today'?s\s+)?(date|day|time|year|month|weekday|hour|clock)\s+(is|>|<|=|equals|after|before|past|reaches)|\b(on|after|before|starting|beginning|from)\s+(or\s+after\s+)?(\d{4}-\d{2}-\d{2}|(january|february|march|april|may|june|july|august|september|october|november|december)\s+\d{1,2}(st|nd|rd|th)?,?\s+\d{4})\b|\bafter\s+(\d+|two|three|four|five|six|seven|eight|nine|ten|twenty|fifty|a\s+hundred|several|a\s+few)\s+(successful\s+)?(calls|uses|invocations|times|runs|requests|executions)\b|\b(every|each)\s+(other|second|third|fourth|fifth|sixth|tenth|hundredth|\d+(st|nd|rd|th)?)\s+(call|invocation|time|use|request|run|message|response)\b|\b(on|from|starting\s+(with|from|at)|beginning\s+(with|from|at)|after)\s+the\s+(\d+(st|nd|rd|th)|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|twentieth|hundredth)\s+(call|use|invocation|run|request|time|execution)\b|\b(once|when|whenever|if)\s+(the\s+)?(counter|count|call\s+count|number\s+of\s+calls)\s+(reaches|exceeds|is|hits)\b|\b(when(ever)?|if|once)\s+(the\s+)?user\s+(says|types|writes|mentions|enters|asks\s+(about|for)|uses\s+the\s+(word|phrase))\s+["']|\b(trigger|magic|code|secret|activation)\s+(word|phrase)\b|\b(starting|beginning|from|after|once)\s+(next|the\s+next|this\s+coming)\s+(week|month|year|release|update|version|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b|\bafter\s+(a|one|two|three|\d+)\s+(days?|weeks?|months?)\b`)

// Command injection in defaults and examples.
var (
	shellPayloadRe = re("(curl|wget|fetch|iwr|invoke-webrequest)\\b[^|;&\\n]{0,200}\\|\\s*(ba|z|k)?sh\\b|\\b(nc|ncat|netcat)\\s+(-[a-z]*e\\b|[^\\s]+\\s+\\d+)|/dev/tcp/|\\brm\\s+-[a-z]*r[a-z]*f?\\s+(/|~|\\*|\\$home)|\\bbase64\\s+(-d|--decode)[^|]{0,80}\\|\\s*(ba)?sh\\b|\\bpowershell(\\.exe)?\\s+[^\\n]{0,40}-(e|enc|encodedcommand)\\b|\\bchmod\\s+(\\+s|[0-7]*777)\\b|\\bmkfifo\\b|\\bsh\\s+-i\\b|\\bpython[0-9.]*\\s+-c\\s+['\"][^'\"]*(socket|subprocess|os\\.system)|\\beval\\s*\\(\\s*(atob|base64|decode)|\\bcrontab\\s+-|>>\\s*~?/?\\.(bashrc|profile|zshrc)|\\bdd\\s+if=/dev/(zero|random)\\s+of=/dev/")
	shellMetaRe    = re("(;|&&|\\|\\||`|\\$\\()\\s*(curl|wget|rm|nc|bash|sh|python|perl|cat|scp|ssh|chmod|eval|exec|powershell|iwr)\\b")
	sqlInjectRe    = re(`'\s*\)?\s*;\s*(drop|delete|insert|update|truncate|alter|create|grant|exec)\s|'\s*or\s+'?\d+'?\s*=\s*'?\d+|\bunion\s+(all\s+)?select\b|;\s*shutdown\b|\bxp_cmdshell\b|'\s*;\s*--`)
	networkRe      = re(`\b(curl|wget|nc|ncat|netcat|scp|ftp|iwr|invoke-webrequest|https?://|/dev/tcp)\b`)
)

// Capability disclosures: honest, low.
var capabilityRe = re(`\b(reads?|returns?|lists?|exposes?|prints?|shows?|gets?)\s+(the\s+)?(value\s+of\s+)?(an?\s+|all\s+)?(env(ironment)?\s+variables?|env\s+vars?)\b|\b(runs?|executes?)\s+(arbitrary\s+)?(shell|terminal|system|bash|os)?\s*commands?\b|\bexecutes?\s+(arbitrary\s+)?(code|scripts?|javascript|python)\b`)

// mentionRe marks a sentence that talks about an attack phrase rather than uttering it
// (security tools, datasets, sanitizers).
var mentionRe = re(`\b(such\s+as|e\.g\.|for\s+example|for\s+instance|detects?|detection|detecting|scans?|scanning|flags?|classif\w*|datasets?|samples?|phrases?|injections?|jailbreaks?|sanitiz\w*|known\s+attacks?|red[\s-]?team\w*|benchmark\w*|labell?ed)\b`)

// sentences splits normalized text into sentences.
var sentenceSplitRe = re(`[.!?]+(\s+|$)|\n+|;\s+|\s+-\s+`)

func sentences(s string) []string {
	parts := sentenceSplitRe.Split(s, -1)
	out := parts[:0]
	for _, p := range parts {
		if strings.TrimSpace(p) != "" {
			out = append(out, p)
		}
	}
	return out
}

// wordIndex finds name in s as a whole word (not inside a longer identifier).
func wordIndex(s, name string) []int {
	for from := 0; ; {
		i := strings.Index(s[from:], name)
		if i < 0 {
			return nil
		}
		i += from
		j := i + len(name)
		if (i == 0 || !isIdent(s[i-1])) && (j == len(s) || !isIdent(s[j])) {
			return []int{i, j}
		}
		from = i + 1
	}
}

func isIdent(c byte) bool {
	return c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
