-- profile-attribute: homeAddress.countryCode = "US"
COALESCE(p.`homeAddress`.`countryCode` = 'US', FALSE);

-- not-equal-is-false-on-missing: person.gender != "female"
COALESCE(p.`person`.`gender` <> 'female', FALSE);

-- numeric-string-coerced: person.age >= "30"
COALESCE(p.`person`.`age` >= '30', FALSE);

-- in-and-notin: homeAddress.countryCode in ["US", "CA"] and person.gender notIn ["x"]
(
  COALESCE(p.`homeAddress`.`countryCode` IN ('US', 'CA'), FALSE)
)
AND (
  COALESCE(NOT (
    p.`person`.`gender` IN ('x')
  ), FALSE)
);

-- existential-list: tags = "vip"
COALESCE(p.`tags` = 'vip', FALSE);

-- string-methods: person.email.endsWith("@example.com", false) and person.name.contains("an")
(
  COALESCE(ENDSWITH(LOWER(p.`person`.`email`), LOWER('@example.com')), FALSE)
)
AND (
  COALESCE(INSTR(p.`person`.`name`, 'an') > 0, FALSE)
);

-- regex: person.email matches "^[a-z]+@(example|test)\\.com$"
COALESCE(p.`person`.`email` RLIKE '^[a-z]+@(example|test)\\.com\\z', FALSE);

-- like: web.name like "Luma%"
COALESCE(p.`web`.`name` LIKE 'Luma%', FALSE);

-- set-methods: tags.intersects(["vip", "gold"]) and tags.subsetOf(["vip", "gold", "new"])
(
  COALESCE(
    SIZE(
      FILTER(
        p.`tags`,
        __e1 -> COALESCE(COALESCE('vip' = __e1, FALSE) OR COALESCE('gold' = __e1, FALSE), FALSE)
      )
    ) > 0,
    FALSE
  )
)
AND (
  COALESCE(
    NOT p.`tags` IS NULL
    AND (
      SIZE(
        FILTER(
          p.`tags`,
          __e2 -> NOT (
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
    WHEN p.`person`.`email` RLIKE '@(\\w+)'
    THEN REGEXP_EXTRACT(p.`person`.`email`, '@(\\w+)', 1)
  END = 'example',
  FALSE
);

-- event-filter-count: xEvent[eventType = "commerce.purchases" and timestamp occurs < 30 days before now].count() >= 2
COALESCE(
  GREATEST(
    SIZE(
      FILTER(
        p.`events`,
        __e1 -> (
          COALESCE(__e1.`eventType` = 'commerce.purchases', FALSE)
        )
        AND (
          COALESCE(
            (
              CASE
                WHEN UNIX_MILLIS(TRY_TO_TIMESTAMP(__e1.`timestamp`)) IS NULL
                AND NOT __e1.`timestamp` IS NULL
                THEN CAST(RAISE_ERROR('a value at line 1, column 45 is not an ISO-8601 timestamp') AS BIGINT)
                ELSE UNIX_MILLIS(TRY_TO_TIMESTAMP(__e1.`timestamp`))
              END BETWEEN 1713182400001 AND 1715774400000
            ),
            FALSE
          )
        )
      )
    ),
    0
  ),
  0
) >= 2;

-- event-sum: xEvent[eventType = "commerce.purchases"].sum(commerce.order.priceTotal) > 100
COALESCE(
  CASE
    WHEN SIZE(
      ARRAY_COMPACT(
        TRANSFORM(
          FILTER(p.`events`, __e1 -> COALESCE(__e1.`eventType` = 'commerce.purchases', FALSE)),
          __e2 -> __e2.`commerce`.`order`.`priceTotal`
        )
      )
    ) = 0
    THEN NULL
    ELSE AGGREGATE(
      ARRAY_COMPACT(
        TRANSFORM(
          FILTER(p.`events`, __e1 -> COALESCE(__e1.`eventType` = 'commerce.purchases', FALSE)),
          __e2 -> __e2.`commerce`.`order`.`priceTotal`
        )
      ),
      CAST(0 AS DOUBLE),
      (acc, x) -> acc + x
    )
  END,
  0
) > 100;

-- top-n-events: xEvent[eventType = "commerce.purchases"].topN(commerce.order.priceTotal, 3).count() = 3
COALESCE(
  GREATEST(
    SIZE(
      SLICE(
        TRANSFORM(
          REVERSE(
            ARRAY_SORT(
              FILTER(
                TRANSFORM(
                  FILTER(p.`events`, __e1 -> COALESCE(__e1.`eventType` = 'commerce.purchases', FALSE)),
                  (__e2, __i3) -> STRUCT(__e2.`commerce`.`order`.`priceTotal` AS `k`, -__i3 AS `j`, __e2 AS `v`)
                ),
                __y4 -> NOT __y4.`k` IS NULL
              )
            )
          ),
          __z5 -> __z5.`v`
        ),
        1,
        CAST(3 AS INT)
      )
    ),
    0
  ),
  0
) = 3;

-- exists-binding: exists E from xEvent where E.eventType = "web.pageView" and E.timestamp occurs last month
COALESCE(
  SIZE(
    FILTER(
      p.`events`,
      __v1 -> (
        (
          COALESCE(__v1.`eventType` = 'web.pageView', FALSE)
        )
        AND (
          COALESCE(
            (
              CASE
                WHEN UNIX_MILLIS(TRY_TO_TIMESTAMP(__v1.`timestamp`)) IS NULL
                AND NOT __v1.`timestamp` IS NULL
                THEN CAST(RAISE_ERROR('a value at line 1, column 61 is not an ISO-8601 timestamp') AS BIGINT)
                ELSE UNIX_MILLIS(TRY_TO_TIMESTAMP(__v1.`timestamp`))
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
    GREATEST(
      SIZE(
        FILTER(
          p.`events`,
          __v1 -> NOT (
            (
              COALESCE(__v1.`commerce`.`order`.`priceTotal` > 10, FALSE)
            )
          )
        )
      ),
      0
    ),
    0
  ) = 0,
  FALSE
);

-- calendar-phrase: xEvent.exists(timestamp occurs this week)
COALESCE(
  SIZE(
    FILTER(
      p.`events`,
      __e1 -> COALESCE(
        (
          CASE
            WHEN UNIX_MILLIS(TRY_TO_TIMESTAMP(__e1.`timestamp`)) IS NULL
            AND NOT __e1.`timestamp` IS NULL
            THEN CAST(RAISE_ERROR('a value at line 1, column 15 is not an ISO-8601 timestamp') AS BIGINT)
            ELSE UNIX_MILLIS(TRY_TO_TIMESTAMP(__e1.`timestamp`))
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
    COALESCE(p.`person`.`gender` = 'male', FALSE)
  )
  OR (
    COALESCE(p.`person`.`age` < 18, FALSE)
  )
);

-- in-segment: inSegment("gold-customers") and homeAddress.countryCode = "US"
(
  FALSE
) AND (
  COALESCE(p.`homeAddress`.`countryCode` = 'US', FALSE)
);

-- chain-funnel: chain(xEvent, timestamp, [A: WHAT(eventType = "commerce.productViews") WHEN(today) COUNT(2), B: WHAT(eventType = "commerce.checkouts") WHEN(< 2 hours after A.timestamp) WHERE(sku = A.sku)])
COALESCE(
  AGGREGATE(
    ARRAY_SORT(
      TRANSFORM(
        TRANSFORM(
          p.`events`,
          (__e1, __i2) -> STRUCT(
            UNIX_MILLIS(TRY_TO_TIMESTAMP(__e1.`timestamp`)) AS `ms`,
            __e1.`timestamp` IS NULL AS `missing`,
            CAST((
              __i2
            ) + 1 AS BIGINT) AS `pos`,
            __e1 AS `event`
          )
        ),
        __s3 -> STRUCT(
          CASE
            WHEN __s3.`missing`
            THEN CAST(RAISE_ERROR(
              CONCAT(
                'chain: event ',
                CAST((
                  __s3.`pos`
                ) - 1 AS STRING),
                ' has no `timestamp` to order it by'
              )
            ) AS BIGINT)
            WHEN __s3.`ms` IS NULL
            THEN CAST(RAISE_ERROR(
              CONCAT(
                'chain: event ',
                CAST((
                  __s3.`pos`
                ) - 1 AS STRING),
                ' `timestamp` is not an ISO-8601 timestamp or epoch milliseconds'
              )
            ) AS BIGINT)
            ELSE __s3.`ms`
          END AS `ts`,
          __s3.`pos` AS `pos`,
          (
            COALESCE(__s3.`event`.`eventType` = 'commerce.productViews', FALSE)
          )
          AND COALESCE((
            __s3.`ms` BETWEEN 1715731200000 AND 1715817599999
          ), FALSE) AS `c0`,
          (
            COALESCE(__s3.`event`.`eventType` = 'commerce.checkouts', FALSE)
          ) AS `c1`
        )
      )
    ),
    STRUCT(
      CAST(0 AS BIGINT) AS `step`,
      CAST(0 AS BIGINT) AS `seen`,
      -4611686018427387904 AS `after`,
      CAST(NULL AS BIGINT) AS `label0`,
      CAST(NULL AS BIGINT) AS `label1`,
      CAST(NULL AS BIGINT) AS `time0`,
      CAST(NULL AS BIGINT) AS `time1`
    ),
    (__acc5, __x6) -> CASE
      WHEN __acc5.`step` = 0 AND __x6.`ts` > __acc5.`after` AND __x6.`c0`
      THEN CASE
        WHEN __acc5.`seen` + 1 >= 2
        THEN STRUCT(
          CAST(1 AS BIGINT) AS `step`,
          CAST(0 AS BIGINT) AS `seen`,
          __x6.`ts` AS `after`,
          __x6.`pos` AS `label0`,
          __acc5.`label1` AS `label1`,
          __x6.`ts` AS `time0`,
          __acc5.`time1` AS `time1`
        )
        ELSE STRUCT(
          CAST(0 AS BIGINT) AS `step`,
          __acc5.`seen` + 1 AS `seen`,
          __acc5.`after` AS `after`,
          __acc5.`label0` AS `label0`,
          __acc5.`label1` AS `label1`,
          __acc5.`time0` AS `time0`,
          __acc5.`time1` AS `time1`
        )
      END
      WHEN __acc5.`step` = 1
      AND __x6.`ts` > __acc5.`after`
      AND __x6.`c1`
      AND COALESCE(
        (
          __x6.`ts` BETWEEN __acc5.`time0` AND (
            (
              __acc5.`time0`
            ) + 7200000
          ) - 1
        ),
        FALSE
      )
      AND (
        COALESCE(
          TRY_ELEMENT_AT(p.`events`, CAST(__x6.`pos` AS INT)).`sku` = TRY_ELEMENT_AT(p.`events`, CAST(__acc5.`label0` AS INT)).`sku`,
          FALSE
        )
      )
      THEN STRUCT(
        CAST(2 AS BIGINT) AS `step`,
        CAST(0 AS BIGINT) AS `seen`,
        __x6.`ts` AS `after`,
        __acc5.`label0` AS `label0`,
        __x6.`pos` AS `label1`,
        __acc5.`time0` AS `time0`,
        __x6.`ts` AS `time1`
      )
      ELSE __acc5
    END
  ).`step` = 2,
  FALSE
);
