-- profile-attribute: homeAddress.countryCode = "US"
COALESCE(p."homeAddress"."countryCode" = 'US', FALSE);

-- not-equal-is-false-on-missing: person.gender != "female"
COALESCE(p."person"."gender" <> 'female', FALSE);

-- numeric-string-coerced: person.age >= "30"
COALESCE(p."person"."age" >= '30', FALSE);

-- in-and-notin: homeAddress.countryCode in ["US", "CA"] and person.gender notIn ["x"]
(
  COALESCE(p."homeAddress"."countryCode" IN ('US', 'CA'), FALSE)
)
AND (
  COALESCE(NOT (
    p."person"."gender" IN ('x')
  ), FALSE)
);

-- existential-list: tags = "vip"
COALESCE(p."tags" = 'vip', FALSE);

-- string-methods: person.email.endsWith("@example.com", false) and person.name.contains("an")
(
  COALESCE(ENDS_WITH(LOWER(p."person"."email"), LOWER('@example.com')), FALSE)
)
AND (
  COALESCE(STRPOS(p."person"."name", 'an') > 0, FALSE)
);

-- regex: person.email matches "^[a-z]+@(example|test)\\.com$"
COALESCE(REGEXP_MATCHES(p."person"."email", '^[a-z]+@(example|test)\.com$'), FALSE);

-- like: web.name like "Luma%"
COALESCE(p."web"."name" LIKE 'Luma%', FALSE);

-- set-methods: tags.intersects(["vip", "gold"]) and tags.subsetOf(["vip", "gold", "new"])
(
  COALESCE(
    LEN(
      LIST_FILTER(
        p."tags",
        LAMBDA __e1 : COALESCE(COALESCE('vip' = __e1, FALSE) OR COALESCE('gold' = __e1, FALSE), FALSE)
      )
    ) > 0,
    FALSE
  )
)
AND (
  COALESCE(
    NOT p."tags" IS NULL
    AND (
      LEN(
        LIST_FILTER(
          p."tags",
          LAMBDA __e2 : NOT (
            COALESCE(
              COALESCE('vip' = __e2, FALSE)
              OR COALESCE('gold' = __e2, FALSE)
              OR COALESCE('new' = __e2, FALSE),
              FALSE
            )
          )
        )
      ) = 0
    ),
    FALSE
  )
);

-- regex-group: person.email.regexGroup("@(\\w+)", 1) = "example"
COALESCE(
  CASE
    WHEN REGEXP_MATCHES(p."person"."email", '@(\w+)')
    THEN REGEXP_EXTRACT(p."person"."email", '@(\w+)', 1)
  END = 'example',
  FALSE
);

-- event-filter-count: xEvent[eventType = "commerce.purchases" and timestamp occurs < 30 days before now].count() >= 2
COALESCE(
  LEN(
    LIST_FILTER(
      p."events",
      LAMBDA __e1 : (
        COALESCE(__e1."eventType" = 'commerce.purchases', FALSE)
      )
      AND (
        COALESCE(
          (
            CASE
              WHEN EPOCH_MS(TRY_CAST(__e1."timestamp" AS TIMESTAMPTZ)) IS NULL
              AND NOT __e1."timestamp" IS NULL
              THEN CAST(ERROR('a value at line 1, column 45 is not an ISO-8601 timestamp') AS BIGINT)
              ELSE EPOCH_MS(TRY_CAST(__e1."timestamp" AS TIMESTAMPTZ))
            END BETWEEN 1713182400001 AND 1715774400000
          ),
          FALSE
        )
      )
    )
  ),
  0
) >= 2;

-- event-sum: xEvent[eventType = "commerce.purchases"].sum(commerce.order.priceTotal) > 100
COALESCE(
  LIST_SUM(
    LIST_TRANSFORM(
      LIST_FILTER(p."events", LAMBDA __e1 : COALESCE(__e1."eventType" = 'commerce.purchases', FALSE)),
      LAMBDA __e2 : __e2."commerce"."order"."priceTotal"
    )
  ),
  0
) > 100;

-- top-n-events: xEvent[eventType = "commerce.purchases"].topN(commerce.order.priceTotal, 3).count() = 3
COALESCE(
  LEN(
    LIST_SLICE(
      LIST_TRANSFORM(
        LIST_REVERSE(
          LIST_SORT(
            LIST_FILTER(
              LIST_TRANSFORM(
                LIST_FILTER(p."events", LAMBDA __e1 : COALESCE(__e1."eventType" = 'commerce.purchases', FALSE)),
                LAMBDA __e2, __i3 : {'k': __e2."commerce"."order"."priceTotal", 'j': -__i3, 'v': __e2}
              ),
              LAMBDA __y4 : NOT __y4."k" IS NULL
            )
          )
        ),
        LAMBDA __z5 : __z5."v"
      ),
      1,
      3
    )
  ),
  0
) = 3;

-- exists-binding: exists E from xEvent where E.eventType = "web.pageView" and E.timestamp occurs last month
COALESCE(
  LEN(
    LIST_FILTER(
      p."events",
      LAMBDA __v1 : (
        (
          COALESCE(__v1."eventType" = 'web.pageView', FALSE)
        )
        AND (
          COALESCE(
            (
              CASE
                WHEN EPOCH_MS(TRY_CAST(__v1."timestamp" AS TIMESTAMPTZ)) IS NULL
                AND NOT __v1."timestamp" IS NULL
                THEN CAST(ERROR('a value at line 1, column 61 is not an ISO-8601 timestamp') AS BIGINT)
                ELSE EPOCH_MS(TRY_CAST(__v1."timestamp" AS TIMESTAMPTZ))
              END BETWEEN 1711929600000 AND 1714521599999
            ),
            FALSE
          )
        )
      )
    )
  ) > 0,
  FALSE
);

-- forall-binding: forall E from xEvent where E.commerce.order.priceTotal > 10
COALESCE(
  COALESCE(
    LEN(
      LIST_FILTER(
        p."events",
        LAMBDA __v1 : NOT (
          (
            COALESCE(__v1."commerce"."order"."priceTotal" > 10, FALSE)
          )
        )
      )
    ),
    0
  ) = 0,
  FALSE
);

-- calendar-phrase: xEvent.exists(timestamp occurs this week)
COALESCE(
  LEN(
    LIST_FILTER(
      p."events",
      LAMBDA __e1 : COALESCE(
        (
          CASE
            WHEN EPOCH_MS(TRY_CAST(__e1."timestamp" AS TIMESTAMPTZ)) IS NULL
            AND NOT __e1."timestamp" IS NULL
            THEN CAST(ERROR('a value at line 1, column 15 is not an ISO-8601 timestamp') AS BIGINT)
            ELSE EPOCH_MS(TRY_CAST(__e1."timestamp" AS TIMESTAMPTZ))
          END BETWEEN 1715558400000 AND 1716163199999
        ),
        FALSE
      )
    )
  ) > 0,
  FALSE
);

-- not-and-or: not (person.gender = "male" or person.age < 18)
NOT (
  (
    COALESCE(p."person"."gender" = 'male', FALSE)
  )
  OR (
    COALESCE(p."person"."age" < 18, FALSE)
  )
);

-- in-segment: inSegment("gold-customers") and homeAddress.countryCode = "US"
(
  FALSE
) AND (
  COALESCE(p."homeAddress"."countryCode" = 'US', FALSE)
);

-- chain-funnel: chain(xEvent, timestamp, [A: WHAT(eventType = "commerce.productViews") WHEN(today) COUNT(2), B: WHAT(eventType = "commerce.checkouts") WHEN(< 2 hours after A.timestamp) WHERE(sku = A.sku)])
COALESCE(
  LIST_REDUCE(
    LIST_SORT(
      LIST_TRANSFORM(
        LIST_TRANSFORM(
          p."events",
          LAMBDA __e1, __i2 : {'ms': EPOCH_MS(TRY_CAST(__e1."timestamp" AS TIMESTAMPTZ)), 'missing': __e1."timestamp" IS NULL, 'pos': CAST(__i2 AS BIGINT), 'event': __e1}
        ),
        LAMBDA __s3 : {'ts': CASE
          WHEN __s3."missing"
          THEN CAST(ERROR(
            CONCAT(
              'chain: event ',
              CAST((
                __s3."pos"
              ) - 1 AS TEXT),
              ' has no `timestamp` to order it by'
            )
          ) AS BIGINT)
          WHEN __s3."ms" IS NULL
          THEN CAST(ERROR(
            CONCAT(
              'chain: event ',
              CAST((
                __s3."pos"
              ) - 1 AS TEXT),
              ' `timestamp` is not an ISO-8601 timestamp or epoch milliseconds'
            )
          ) AS BIGINT)
          ELSE __s3."ms"
        END, 'pos': __s3."pos", 'c0': (
          COALESCE(__s3."event"."eventType" = 'commerce.productViews', FALSE)
        )
        AND COALESCE((
          __s3."ms" BETWEEN 1715731200000 AND 1715817599999
        ), FALSE), 'c1': (
          COALESCE(__s3."event"."eventType" = 'commerce.checkouts', FALSE)
        )}
      )
    ),
    LAMBDA __acc5, __x6 : CASE
      WHEN __acc5."step" = 0 AND __x6."ts" > __acc5."after" AND __x6."c0"
      THEN CASE
        WHEN __acc5."seen" + 1 >= 2
        THEN {'step': CAST(1 AS BIGINT), 'seen': CAST(0 AS BIGINT), 'after': __x6."ts", 'label0': __x6."pos", 'label1': __acc5."label1", 'time0': __x6."ts", 'time1': __acc5."time1"}
        ELSE {'step': CAST(0 AS BIGINT), 'seen': __acc5."seen" + 1, 'after': __acc5."after", 'label0': __acc5."label0", 'label1': __acc5."label1", 'time0': __acc5."time0", 'time1': __acc5."time1"}
      END
      WHEN __acc5."step" = 1
      AND __x6."ts" > __acc5."after"
      AND __x6."c1"
      AND COALESCE(
        (
          __x6."ts" BETWEEN __acc5."time0" AND (
            (
              __acc5."time0"
            ) + 7200000
          ) - 1
        ),
        FALSE
      )
      AND (
        COALESCE(p."events"[__x6."pos"]."sku" = p."events"[__acc5."label0"]."sku", FALSE)
      )
      THEN {'step': CAST(2 AS BIGINT), 'seen': CAST(0 AS BIGINT), 'after': __x6."ts", 'label0': __acc5."label0", 'label1': __x6."pos", 'time0': __acc5."time0", 'time1': __x6."ts"}
      ELSE __acc5
    END,
    {'step': CAST(0 AS BIGINT), 'seen': CAST(0 AS BIGINT), 'after': -4611686018427387904, 'label0': CAST(NULL AS BIGINT), 'label1': CAST(NULL AS BIGINT), 'time0': CAST(NULL AS BIGINT), 'time1': CAST(NULL AS BIGINT)}
  )."step" = 2,
  FALSE
);
